// twinme admin console: GraphiQL with the session cookie or a pasted API
// token. The token lives in the `token` variable below and nowhere else: not
// in the URL, not in localStorage/sessionStorage, not in a cookie. Reloading
// the page forgets it.
(function () {
  'use strict';
  var body = document.body;
  var endpoint = body.dataset.endpoint || '/graphql';
  var token = null;
  var started = false;

  function $(id) { return document.getElementById(id); }

  function authHeaders() {
    return token ? { Authorization: 'Bearer ' + token } : {};
  }

  function consoleFetch(url, init) {
    init = init || {};
    var headers = Object.assign({}, init.headers || {}, authHeaders());
    return fetch(url, Object.assign({}, init, { headers: headers, credentials: 'same-origin' }));
  }

  // Who is this browser? { me { email role } } with the cookie or the token.
  function whoAmI() {
    return consoleFetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: '{ me { email role } }' })
    }).then(function (r) { return r.json(); }).then(function (j) {
      return j && j.data && j.data.me ? j.data.me : null;
    }, function () { return null; });
  }

  // In-memory storage for GraphiQL: nothing of the console is persisted.
  function memoryStorage() {
    var m = new Map();
    return {
      getItem: function (k) { return m.has(k) ? m.get(k) : null; },
      setItem: function (k, v) { m.set(k, String(v)); },
      removeItem: function (k) { m.delete(k); },
      clear: function () { m.clear(); },
      get length() { return m.size; }
    };
  }

  function showSignIn(note) {
    $('graphiql').hidden = true;
    $('signin').hidden = false;
    $('signin-note').textContent = note || '';
    $('google').hidden = body.dataset.google !== 'true';
    $('token').focus();
  }

  function showWho(me) {
    $('who').textContent = me ? ('signed in as ' + me.email + ' (' + me.role.toLowerCase() + (token ? ', API token' : ', session') + ')') : 'not signed in';
    $('forget').hidden = !token;
  }

  function start(me) {
    showWho(me);
    $('signin').hidden = true;
    var el = $('graphiql');
    el.hidden = false;
    if (started) { return; }
    started = true;
    var wsURL = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + endpoint;
    // One websocket for every subscription; the token (if any) goes in
    // connection_init, never in the URL. The cookie goes with the upgrade.
    var wsClient = graphqlWs.createClient({
      url: wsURL,
      lazy: true,
      connectionParams: function () { return authHeaders(); }
    });
    var fetcher = GraphiQL.createFetcher({
      url: endpoint,
      wsClient: wsClient,
      enableIncrementalDelivery: false,
      fetch: consoleFetch
    });
    var defaultQuery = '# twinme admin console\n' +
      '# Queries and mutations go over HTTP, subscriptions over the websocket,\n' +
      '# both with your session or the token you pasted.\n\n' +
      '{ me { email role } }\n';
    ReactDOM.createRoot(el).render(React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      shouldPersistHeaders: false,
      storage: memoryStorage()
    }));
  }

  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = $('token');
    token = input.value.trim() || null;
    input.value = '';
    whoAmI().then(function (me) {
      if (!me) {
        token = null;
        showSignIn('That token was not accepted.');
        return;
      }
      start(me);
    });
  });

  $('anonymous').addEventListener('click', function () { start(null); });

  $('forget').addEventListener('click', function () {
    token = null;
    location.reload();
  });

  whoAmI().then(function (me) {
    if (me) { start(me); } else { showSignIn(''); }
  });
})();
