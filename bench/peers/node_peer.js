// The Node.js peer of the walstream benchmark: the `pg-logical-replication` package with its
// pgoutput plugin (protocol v1, the highest whose messages it parses), decoding every column of
// every change to a JavaScript value with pg-types (the plugin's own behaviour).
//
// Usage: node node_peer.js HOST PORT USER DATABASE SLOT PUBLICATION END_LSN
// Stops once the server reports a WAL position at or past END_LSN and prints one JSON line:
// {"changes": N, "transactions": T}. Acknowledgements go out every 10 s (not per message, which
// the library's `auto` mode would do), as a service written for throughput would configure it.
'use strict';

const { LogicalReplicationService, PgoutputPlugin } = require('pg-logical-replication');

function parseLsn(text) {
  const [hi, lo] = text.split('/');
  return (BigInt('0x' + hi) << 32n) | BigInt('0x' + lo);
}

const [host, port, user, database, slot, publication, endText] = process.argv.slice(2);
const end = parseLsn(endText);
let changes = 0;
let transactions = 0;
let finished = false;

const service = new LogicalReplicationService(
  { host, port: Number(port), user, database },
  { acknowledge: { auto: false, timeoutSeconds: 10 } },
);
const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] });

async function finish(code) {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify({ changes, transactions }) + '\n');
  try {
    await service.acknowledge(endText);
    await service.stop();
  } finally {
    process.exit(code);
  }
}

service.on('data', (lsn, msg) => {
  switch (msg.tag) {
    case 'insert':
    case 'update':
    case 'delete':
      changes += 1;
      break;
    case 'commit':
      transactions += 1;
      break;
    default:
      break;
  }
});

service.on('heartbeat', async (lsn, _timestamp, shouldRespond) => {
  if (parseLsn(lsn) >= end) {
    await finish(0);
  } else if (shouldRespond) {
    await service.acknowledge(lsn);
  }
});

service.on('error', (err) => {
  process.stderr.write(`node peer error: ${err && err.stack ? err.stack : err}\n`);
  if (!finished) process.exit(1);
});

service.subscribe(plugin, slot).catch((err) => {
  process.stderr.write(`node peer subscribe failed: ${err && err.stack ? err.stack : err}\n`);
  if (!finished) process.exit(1);
});
