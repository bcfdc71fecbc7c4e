// The macro page's script: connect Jira in a popup (Atlassian's consent page cannot be framed),
// disconnect, retry. Every call to the app carries a fresh Connect token from AP.context.getToken().
/* global window, document, fetch, setInterval, clearInterval, Element, AP */
(function () {
  'use strict';

  var POPUP_NAME = 'jtr-connect';

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

  // The launch token goes into the popup as a form post, never in a URL.
  function postLaunch(launch) {
    var form = document.createElement('form');
    form.method = 'post';
    form.action = '/jira/connect';
    form.target = POPUP_NAME;
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = 'launch';
    input.value = launch;
    form.appendChild(input);
    document.body.appendChild(form);
    form.submit();
    form.remove();
  }

  // Connected once /jira/status says so: asked when the popup reports, every 2 s while it is
  // open, and once more after it closed (its result page may never reach us), then the whole page
  // reloads so that every macro shows issues. A renewal ("Reconnect Jira soon") is done once the
  // new consent has replaced the ending one, i.e. the status no longer asks to reconnect soon.
  function awaitConsent(popup, button) {
    var renew = button.hasAttribute('data-renew');
    var done = false;
    var checking = false;
    function stop() {
      done = true;
      clearInterval(timer);
      window.removeEventListener('message', onMessage);
    }
    function check(final) {
      if (done || checking) return;
      checking = true;
      callApp('GET', '/jira/status')
        .then(function (response) {
          return response.ok ? response.json() : { connected: false };
        })
        .then(
          function (status) {
            checking = false;
            if (done) return;
            if (status.connected && !(renew && status.reconnectSoon)) {
              stop();
              AP.navigator.reload();
            } else if (final) {
              stop();
              button.disabled = false;
              say('');
            }
          },
          function () {
            checking = false;
            if (!final || done) return;
            stop();
            button.disabled = false;
            say('Could not check the connection. Reload the page.');
          },
        );
    }
    function onMessage(event) {
      if (event.origin !== window.location.origin || event.source !== popup) return;
      if (event.data && event.data.type === 'jtr:connect-result') check(false);
    }
    window.addEventListener('message', onMessage);
    var timer = setInterval(function () {
      check(popup.closed);
    }, 2000);
  }

  function connect(button) {
    // Opened synchronously, inside the click: popup blockers allow nothing later.
    var popup = window.open('', POPUP_NAME, 'popup,width=600,height=720');
    if (!popup) return say('Allow pop-ups for this page, then try again.');
    button.disabled = true;
    say('Waiting for Atlassian…');
    callApp('POST', '/jira/launch')
      .then(function (response) {
        if (!response.ok) throw new Error('launch ' + response.status);
        return response.json();
      })
      .then(function (body) {
        postLaunch(body.launch);
        awaitConsent(popup, button);
      })
      .catch(function () {
        popup.close();
        button.disabled = false;
        say('Could not start connecting Jira. Try again.');
      });
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
