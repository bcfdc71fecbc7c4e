// The consent router's browser helper, served at GET <mount>/consent.js. On a page,
// JiraConsent.connect() opens the consent popup inside the click, posts a launch token into it and
// resolves when the consent has ended. On the popup's own pages, it tells the opener how the
// consent ended, takes the code and state out of the address bar, and closes on success.
/* global window, document, fetch, setInterval, clearInterval */
(function () {
  'use strict';

  var POPUP_NAME = 'jtr-consent';
  var MESSAGE_TYPE = 'jtr:consent-result';

  function failure(code, message) {
    var error = new Error(message);
    error.code = code;
    return error;
  }

  // The options once read: `base` without its trailing slash, `headers` asked before each request.
  function settings(options) {
    options = options || {};
    return {
      base: String(options.base || '').replace(/\/+$/, ''),
      headers: options.headers,
      credentials: options.credentials || 'same-origin',
      renew: options.renew === true,
      pollMs: options.pollMs > 0 ? options.pollMs : 2000,
    };
  }

  function call(s, method, path) {
    // A `headers` function that throws rejects the call, like a failed fetch.
    return new Promise(function (resolve) {
      resolve(typeof s.headers === 'function' ? s.headers() : s.headers);
    }).then(function (values) {
      return fetch(s.base + path, {
        method: method,
        headers: values || {},
        credentials: s.credentials,
        cache: 'no-store',
      });
    });
  }

  // The launch token goes into the popup as a form post, never in a URL.
  function postLaunch(s, launch) {
    var form = document.createElement('form');
    form.method = 'post';
    form.action = s.base + '/connect';
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

  // Connected once <base>/status says so: asked when the popup reports, every `pollMs` while it is
  // open, and once more after it closed (its result page may never reach us). A renewal is done
  // once the new consent has replaced the ending one: the status no longer asks to reconnect soon.
  function awaitConsent(s, popup) {
    return new Promise(function (resolve) {
      var done = false;
      var checking = false;
      var result;
      function finish(connected, status) {
        done = true;
        clearInterval(timer);
        window.removeEventListener('message', onMessage);
        resolve({ connected: connected, status: status, result: result });
      }
      function check(final) {
        if (done || checking) return;
        checking = true;
        call(s, 'GET', '/status')
          .then(function (response) {
            return response.ok ? response.json() : null;
          })
          .then(
            function (status) {
              checking = false;
              if (done) return;
              var connected = !!(status && status.connected && !(s.renew && status.reconnectSoon));
              if (connected || final) finish(connected, status);
            },
            function () {
              checking = false;
              if (final && !done) finish(false, null);
            },
          );
      }
      function onMessage(event) {
        if (event.origin !== window.location.origin || event.source !== popup) return;
        if (event.data && event.data.type === MESSAGE_TYPE) {
          result = event.data.result;
          check(false);
        }
      }
      window.addEventListener('message', onMessage);
      var timer = setInterval(function () {
        check(popup.closed);
      }, s.pollMs);
    });
  }

  /**
   * Connects Jira: call it inside a click handler. Resolves `{ connected, status, result }` once
   * the popup has reported or closed (`status`: the last GET <base>/status answer, null if none
   * could be read; `result`: what the popup reported, if it did). Rejects with `code`
   * 'popup_blocked' or 'launch_failed' when no consent could start.
   * Options: `base` (where the router is mounted, e.g. '/jira'), `headers` (an object, or a
   * function returning one or a promise of one, asked before each request), `credentials`
   * (fetch's, default 'same-origin'), `renew` (wait until the status no longer says reconnectSoon).
   */
  function connect(options) {
    var s = settings(options);
    // Opened synchronously, inside the click: popup blockers allow nothing later.
    var popup = window.open('', POPUP_NAME, 'popup,width=600,height=720');
    if (!popup) return Promise.reject(failure('popup_blocked', 'The browser blocked the consent popup'));
    return call(s, 'POST', '/launch')
      .then(function (response) {
        if (!response.ok)
          throw failure('launch_failed', 'POST ' + s.base + '/launch answered ' + response.status);
        return response.json();
      })
      .then(
        function (body) {
          if (!body || typeof body.launch !== 'string') throw failure('launch_failed', 'No launch token');
          postLaunch(s, body.launch);
          return awaitConsent(s, popup);
        },
        function (error) {
          popup.close();
          throw error && error.code ? error : failure('launch_failed', 'Could not ask for a launch token');
        },
      );
  }

  // The popup's own pages carry data-jtr-consent: report the result to the page that opened it.
  function reportFromPopup() {
    var root = document.querySelector('[data-jtr-consent][data-result]');
    if (!root) return;
    var result = root.getAttribute('data-result');
    window.history.replaceState(null, '', window.location.pathname);
    // The opener is the page that called connect(), on this same origin.
    if (window.opener)
      window.opener.postMessage({ type: MESSAGE_TYPE, result: result }, window.location.origin);
    var close = document.querySelector('[data-action="close"]');
    if (close)
      close.addEventListener('click', function () {
        window.close();
      });
    if (result === 'connected') window.close();
  }

  window.JiraConsent = { connect: connect };
  reportFromPopup();
})();
