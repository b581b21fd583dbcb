/**
 * Runs one MongoDB stand-in case by hand (for trying `kubectl sts mongo-status` on the local
 * cluster outside the tests): prints its loopback port, serves until interrupted.
 *
 *   npx tsx test/helpers/mongo-standin-main.ts CASE NAMESPACE [USER PASSWORD]
 *
 * Then point a pod's exec at it with a KWOK Exec named like the pod (see test/e2e/mongo-status.test.ts):
 * env KSTS_MONGO_PORT=<port>, KSTS_MONGOSH_JS=$(bash scripts/cluster/mongosh.sh),
 * KSTS_NODE=$PWD/node_modules/node/bin/node, KSTS_POD_NAMESPACE=NAMESPACE.
 */
import { startStandin } from './mongo-standin.js';
import { CASE_NAMES, standinCase, type CaseName } from '../fixtures/mongo/standin/cases.js';

const [name, ns, user, password] = process.argv.slice(2);
if (!name || !ns || !(CASE_NAMES as readonly string[]).includes(name)) {
  console.error(`usage: tsx test/helpers/mongo-standin-main.ts CASE NAMESPACE [USER PASSWORD]\ncases: ${CASE_NAMES.join(', ')}`);
  process.exit(2);
}
const s = await startStandin({ ...standinCase(name as CaseName, ns), ...(user && password ? { auth: { user, db: 'admin', password } } : {}) });
console.log(s.port);
process.on('SIGINT', () => void s.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void s.close().then(() => process.exit(0)));
