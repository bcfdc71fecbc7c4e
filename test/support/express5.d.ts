// express 5 is installed as the `express5` alias (a devDependency) so the middleware's tests run on
// both majors of its peer range; express 5 ships no types, and the app's are express 4's.
declare module 'express5' {
  import express from 'express';
  export default express;
}
