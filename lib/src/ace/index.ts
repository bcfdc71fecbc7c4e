// `jira-token-rotation/ace`: what the package knows of Atlassian Connect (atlassian-connect-express).
// The root entry never loads this file, so a Forge or plain Express backend carries no Connect code;
// nor does this one load ACE or atlassian-jwt: the add-on object is a parameter. Re-exports only.

export { aceUserResolver } from './ace-user-resolver';
export { connectJwtPrecheck, type ConnectJwtPrecheckOptions } from './connect-jwt-precheck';
export { forgetAceSessionToken } from './forget-ace-session-token';
export {
  aceConsentOptions,
  type AceAddon,
  type AceConsentOptions,
  type AceConsentHelperOptions,
} from './ace-consent-options';
