// Real clients against the URL given; prints one JSON line per check (name, value).
// Run by tests/e2e/test_http_clients.py; the server is `backorders serve --demo`-like.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloClient, InMemoryCache, HttpLink, ApolloLink, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createClient } from 'graphql-sse';

const [url, staffToken, possibleTypesFile] = process.argv.slice(2);
const sent = [];
const recording = (input, init) => {
  sent.push({ method: init?.method ?? 'GET', withQuery: String(init?.body ?? '').includes('"query"') });
  return fetch(input, init);
};
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const out = (name, value) => console.log(JSON.stringify({ name, value }));

const STOCK = gql`query Stock { product(sku: "KB") { sku stock { onHand } } }`;

// Persisted queries by GET: a miss, the retry with the query (POST), then a hit by GET.
const apq = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.from([
    new PersistedQueryLink({ sha256, useGETForHashedQueries: true }),
    new HttpLink({ uri: url, fetch: recording }),
  ]),
});
const first = await apq.query({ query: STOCK, fetchPolicy: 'network-only' });
const second = await apq.query({ query: STOCK, fetchPolicy: 'network-only' });
out('apq', { first: first.data, second: second.data, methods: sent.map((s) => s.method) });

// An error union read through `... on Error`, with the possibleTypes that
// `backorders export-schema --possible-types` wrote, and without them.
const RESTOCK = gql`mutation Missing { receiveRestock(id: "999999") {
  __typename ... on Error { code message } } }`;
const possibleTypes = JSON.parse(readFileSync(possibleTypesFile, 'utf8'));
const asStaff = { headers: { authorization: `Bearer ${staffToken}` } };
const unionWith = async (cache) => {
  const client = new ApolloClient({ cache, link: new HttpLink({ uri: url, ...asStaff }) });
  const result = await client.mutate({ mutation: RESTOCK });
  return result.data.receiveRestock;
};
out('errorUnion', {
  withPossibleTypes: await unionWith(new InMemoryCache({ possibleTypes })),
  without: await unionWith(new InMemoryCache()),
});

// A multipart subscription over Apollo's HTTP link, woken by a change made through the API.
const http = new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri: url }) });
const SUB = gql`subscription { productStockChanged(sku: "KB") { sku stock { onHand } } }`;
const ADJUST = `mutation { adjustStock(sku: "KB", delta: 1) { __typename } }`;
const adjust = () => fetch(url, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${staffToken}` },
  body: JSON.stringify({ query: ADJUST }),
});
const multipart = await new Promise((resolve, reject) => {
  const seen = [];
  const subscription = http.subscribe({ query: SUB }).subscribe({
    next: (result) => {
      seen.push(result.data?.productStockChanged?.stock?.onHand);
      if (seen.length === 1) adjust();
      if (seen.length === 2) { subscription.unsubscribe(); resolve(seen); }
    },
    error: reject,
  });
  setTimeout(() => reject(new Error('multipart: timed out')), 15000);
});
out('multipart', multipart);

// graphql-sse (distinct connections mode), woken the same way.
const sse = createClient({ url });
const seen = [];
const timer = setTimeout(() => { console.error('sse: timed out'); process.exit(2); }, 15000);
for await (const result of sse.iterate({ query: 'subscription { productStockChanged(sku: "KB") { stock { onHand } } }' })) {
  seen.push(result.data.productStockChanged.stock.onHand);
  if (seen.length === 1) await adjust();
  if (seen.length === 2) break;
}
clearTimeout(timer);
out('sse', seen);
process.exit(0);
