// The consent popup's last page: tell the macro that opened it how the consent ended, take the
// code and state out of the address bar, and close when Jira is connected.
/* global window, document */
(function () {
  'use strict';
  var root = document.querySelector('[data-result]');
  var result = root ? root.getAttribute('data-result') : 'unknown';
  window.history.replaceState(null, '', window.location.pathname);
  // The opener is the macro iframe, on this same origin.
  if (window.opener)
    window.opener.postMessage({ type: 'jtr:connect-result', result: result }, window.location.origin);
  var close = document.querySelector('[data-action="close"]');
  if (close)
    close.addEventListener('click', function () {
      window.close();
    });
  if (result === 'connected') window.close();
})();
