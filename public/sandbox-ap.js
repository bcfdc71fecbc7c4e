// The sandbox's stand-in for Atlassian's all.js, inside a macro iframe: the few AP calls the macro
// uses, carried to the host page (another origin, named by `xdm_e` as Confluence does) by postMessage.
/* global window, document, URLSearchParams, ResizeObserver */
(function () {
  'use strict';
  var host = new URLSearchParams(window.location.search).get('xdm_e');
  var nextId = 1;
  var pending = {};

  function send(message) {
    message.jtrAp = 1;
    if (host) window.parent.postMessage(message, host);
  }

  window.addEventListener('message', function (event) {
    if (event.origin !== host || event.source !== window.parent) return;
    var data = event.data;
    if (!data || data.jtrAp !== 1 || !pending[data.id]) return;
    var callback = pending[data.id];
    delete pending[data.id];
    callback(data.error ? undefined : data.result);
  });

  // The content's height: scrollHeight would never let the iframe shrink below its current size.
  function resize() {
    send({ method: 'resize', height: Math.ceil(document.documentElement.getBoundingClientRect().height) });
  }

  window.AP = {
    context: {
      getToken: function (callback) {
        return new Promise(function (resolve) {
          var id = nextId++;
          pending[id] = function (token) {
            if (callback) callback(token);
            resolve(token);
          };
          send({ id: id, method: 'getToken' });
        });
      },
    },
    navigator: {
      reload: function () {
        send({ method: 'reload' });
      },
    },
    resize: resize,
  };

  // all.js sizes the iframe to its content; so does the stand-in.
  window.addEventListener('load', resize);
  if (typeof ResizeObserver === 'function') new ResizeObserver(resize).observe(document.documentElement);
})();
