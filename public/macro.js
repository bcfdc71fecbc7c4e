// The macro page's script: connect Jira in a popup (Atlassian's consent page cannot be framed)
// through the consent router's helper, disconnect, retry. Every call to the app carries a fresh
// Connect token from AP.context.getToken().
/* global document, fetch, Element, AP, JiraConsent */
(function () {
  'use strict';

  function contextToken() {
    return new Promise(function (resolve, reject) {
      AP.context.getToken(function (token) {
        if (token) resolve(token);
        else reject(new Error('No Connect token'));
      });
    });
  }

  function callApp(method, path) {
    return contextToken().then(function (token) {
      return fetch(path, { method: method, headers: { authorization: 'JWT ' + token }, credentials: 'omit' });
    });
  }

  function say(text) {
    var status = document.querySelector('[data-status]');
    if (status) status.textContent = text;
  }

  // Connecting goes through the consent router's helper (/jira/consent.js): it opens the popup
  // inside this click, and resolves once /jira/status says connected or the popup has closed.
  // Every call carries a fresh Connect token; no cookie (the iframe is third-party).
  // Connected: the whole page reloads, so that every macro shows issues. A renewal ("Reconnect
  // Jira soon") is done once the new consent has replaced the ending one.
  function connect(button) {
    say('Waiting for Atlassian…');
    button.disabled = true;
    JiraConsent.connect({
      base: '/jira',
      headers: function () {
        return contextToken().then(function (token) {
          return { authorization: 'JWT ' + token };
        });
      },
      credentials: 'omit',
      renew: button.hasAttribute('data-renew'),
    }).then(
      function (outcome) {
        if (outcome.connected) return AP.navigator.reload();
        button.disabled = false;
        say(outcome.status ? '' : 'Could not check the connection. Reload the page.');
      },
      function (error) {
        button.disabled = false;
        say(
          error && error.code === 'popup_blocked'
            ? 'Allow pop-ups for this page, then try again.'
            : 'Could not start connecting Jira. Try again.',
        );
      },
    );
  }

  function disconnect(button) {
    button.disabled = true;
    callApp('POST', '/jira/disconnect')
      .then(function (response) {
        if (response.status !== 204) throw new Error('disconnect ' + response.status);
        AP.navigator.reload();
      })
      .catch(function () {
        button.disabled = false;
        say('Could not disconnect. Try again.');
      });
  }

  document.addEventListener('click', function (event) {
    var button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (!button) return;
    var action = button.getAttribute('data-action');
    if (action === 'connect') connect(button);
    else if (action === 'disconnect') disconnect(button);
    else if (action === 'retry') AP.navigator.reload();
  });
})();
