// Starts GraphiQL against the endpoint that served this page (cms/http/ide.py). Everything it
// loads comes from the CMS: see README.md beside this file.
(function () {
  "use strict";

  const DEFAULT_QUERY = `# GraphiQL for the Back Walk CMS. Ctrl-Enter runs the query;
# Ctrl-Space completes. Send a token under "Headers" as
# {"Authorization": "Bearer <token>"} to see drafts.
{
  articles(first: 5) {
    nodes {
      slug
      title
      publishedAt
    }
  }
}
`;

  const url = window.location.href.split(/[?#]/)[0];
  const subscriptionUrl = url.replace(/^http/, "ws");
  const fetcher = GraphiQL.createFetcher({ url, subscriptionUrl });
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: DEFAULT_QUERY,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    }),
  );
})();
