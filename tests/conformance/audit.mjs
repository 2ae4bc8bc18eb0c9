// Runs graphql-http's audit against the URL given and prints one JSON line per result.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
for (const result of results) {
  const { id, name, status, reason } = result;
  console.log(JSON.stringify({ id, name, status, reason: reason ?? null }));
}
