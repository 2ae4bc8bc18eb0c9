// Starts GraphiQL on the page that GET /graphql serves (api/graphiql/page.html). A file of
// its own, not an inline script: the page's Content-Security-Policy allows 'self' only.
(function () {
  "use strict";

  var DEFAULT_QUERY = [
    "# Backorders GraphiQL, served by the API itself (it needs no network).",
    "#",
    "# Signed in: put a bearer token in the Headers tab below, for example",
    '#   {"Authorization": "Bearer <token>"}',
    "# (`backorders token alice`, or `backorders token ops --role staff`).",
    "# The same header signs in the websocket that subscriptions use.",
    "#",
    "# Run with Ctrl-Enter. Live updates of your back orders:",
    "#   subscription { myBackOrders { id status queuePosition estimatedShipDate } }",
    "",
    "{",
    "  products(first: 5) {",
    "    edges { node { sku name availability estimatedShipDate } }",
    "  }",
    "}",
    "",
  ].join("\n");

  var endpoint = window.location.origin + window.location.pathname;
  var socket = new URL(endpoint);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";

  // Queries and mutations go over HTTP with the Headers tab's headers; a subscription opens
  // a graphql-transport-ws socket with those headers as its connection_init payload.
  var createdFetcher = GraphiQL.createFetcher({
    url: endpoint,
    subscriptionUrl: socket.toString(),
  });

  // The fetcher tells a subscription by the document GraphiQL parsed from the editor, which
  // lags an edit by a moment: a subscription pasted and run at once would go over HTTP.
  // Parse the text that is sent instead (GraphiQL's bundle carries graphql-js).
  function fetcher(params, options) {
    var documentAST = options && options.documentAST;
    try {
      documentAST = GraphiQL.GraphQL.parse(params.query);
    } catch (error) {
      // Not parsable: the server answers with the syntax error.
    }
    return createdFetcher(params, Object.assign({}, options, { documentAST: documentAST }));
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultHeaders: "{}",
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
