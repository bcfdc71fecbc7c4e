// The sandbox host page: answers its macro iframes' AP calls (getToken, resize, reload) as
// Confluence would, and drives the simulator (clock, counters) for demonstrations.
/* global window, document, fetch */
(function () {
  'use strict';
  var root = document.querySelector('[data-sandbox]');
  var appOrigin = root.getAttribute('data-app-origin');
  var user = root.getAttribute('data-user');
  var frames = Array.prototype.slice.call(document.querySelectorAll('iframe[data-macro]'));

  function contextToken() {
    return fetch('/sandbox/context-token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: user }),
    }).then(function (response) {
      if (!response.ok) throw new Error('context-token ' + response.status);
      return response.json();
    });
  }

  window.addEventListener('message', function (event) {
    if (event.origin !== appOrigin) return;
    var frame = frames.find(function (f) {
      return f.contentWindow === event.source;
    });
    var data = event.data;
    if (!frame || !data || data.jtrAp !== 1) return;
    var source = event.source;
    if (data.method === 'getToken') {
      contextToken().then(
        function (body) {
          source.postMessage({ jtrAp: 1, id: data.id, result: body.token }, appOrigin);
        },
        function () {
          source.postMessage({ jtrAp: 1, id: data.id, error: 'unavailable' }, appOrigin);
        },
      );
    } else if (data.method === 'resize') {
      var height = Math.min(Math.max(Number(data.height) || 0, 40), 4000);
      frame.style.height = height + 'px';
    } else if (data.method === 'reload') {
      window.location.reload();
    }
  });

  function showStats() {
    fetch('/sim/stats')
      .then(function (response) {
        return response.json();
      })
      .then(function (stats) {
        document.querySelector('[data-stats]').textContent =
          'Simulator: ' +
          stats.rotations +
          ' rotation(s), ' +
          stats.revocations +
          ' revocation(s), ' +
          stats.codeExchanges +
          ' consent(s).';
      })
      .catch(function () {});
  }

  document.querySelector('[data-action="advance"]').addEventListener('click', function () {
    fetch('/sim/clock/advance', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: 3600000 }),
    }).then(function () {
      window.location.reload();
    });
  });

  showStats();
  window.setInterval(showStats, 2000);
})();
