// GraphiQL with the explorer, against this server's /graphql (HTTP and graphql-transport-ws).
"use strict";

const EXAMPLE = `# fugong: enterprises of 古槐镇 and their flags. Ctrl-Enter runs a query;
# log in with the login mutation and put {"Authorization": "Bearer <token>"} under Headers.
{
  enterprises(where: {areaCode: "350112105"}, first: 5) {
    totalCount
    edges { node { id name flag { color reason } } }
  }
}
`;

const url = new URL("/graphql", window.location.href).toString();
const subscriptionUrl = url.replace(/^http/, "ws");
const fetcher = GraphiQL.createFetcher({ url, subscriptionUrl });
const params = new URLSearchParams(window.location.search);

function App() {
  return React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: EXAMPLE,
    query: params.get("q") || undefined, // ?query= would run it: GET is a GraphQL request
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
