// PostGraphile 5 (Amber preset) on Node's own HTTP server, for bench/run.py --peer postgraphile.
//
//   DATABASE_URL=postgresql://... PORT=8000 node server.mjs
//
// Serves POST /graphql on 127.0.0.1 only; no GraphiQL, no watch mode.
import { createServer } from "node:http";

import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const connectionString = process.env.DATABASE_URL;
const port = Number(process.argv[2] ?? process.env.PORT);
if (!connectionString || !Number.isInteger(port) || port <= 0) {
  console.error("usage: DATABASE_URL=postgresql://... node server.mjs <port> (or PORT=<port>)");
  process.exit(2);
}

const preset = {
  extends: [PostGraphileAmberPreset],
  // Conditions on unindexed columns too: the benchmark's queries filter children on `is_draft`.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [makePgService({ connectionString, schemas: ["public"] })],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
};

const serv = postgraphile(preset).createServ(grafserv);
const server = createServer();
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
await serv.addTo(server);
server.listen(port, "127.0.0.1");

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
