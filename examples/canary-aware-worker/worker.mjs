// A queue worker that learns its role from Argo Rollouts' ephemeral labels and switches queues
// without restarting. Build the library first (`npm run build` at the repository root).
//
//   PODINFO_LABELS   labels file (default /etc/podinfo/labels, the downward-API volume)
//   CONSUME_EVERY_MS how often the simulated consumer "reads" a message (default 2000)
import { DEFAULT_POD_LABELS_PATH, watchPodLabels } from '../../dist/podinfo/index.js';

const labelsPath = process.env.PODINFO_LABELS ?? DEFAULT_POD_LABELS_PATH;
const consumeEveryMs = Number(process.env.CONSUME_EVERY_MS ?? 2000);

// What the worker uses when a label is absent, e.g. when run outside a Rollout.
const DEFAULTS = { role: 'unknown', rabbitHost: 'localhost', rabbitPort: '5672', rabbitQueue: 'devReadQueue' };

const log = (fields) => console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));

function settingsFrom(labels) {
  const pick = (key) => labels[key] ?? DEFAULTS[key];
  return { role: pick('role'), rabbit: `${pick('rabbitHost')}:${pick('rabbitPort')}`, queue: pick('rabbitQueue') };
}

// Stands in for an AMQP consumer: a real worker would cancel the old consumer (letting the
// in-flight message finish) and open one on the new queue, maybe on a new connection.
function startConsumer({ rabbit, queue }) {
  let message = 0;
  const timer = setInterval(() => log({ event: 'consume', rabbit, queue, message: ++message }), consumeEveryMs);
  return { rabbit, queue, stop: () => clearInterval(timer) };
}

let consumer;
function configure(labels, reason) {
  const settings = settingsFrom(labels);
  const switching = consumer && (consumer.queue !== settings.queue || consumer.rabbit !== settings.rabbit);
  log({ event: 'configured', reason, ...settings, previousQueue: consumer?.queue ?? null, labels });
  if (!consumer || switching) {
    consumer?.stop();
    consumer = startConsumer(settings);
  }
}

const shutdown = new AbortController();
const watch = watchPodLabels(labelsPath, (labels) => configure(labels, 'labels changed'), {
  signal: shutdown.signal,
  onError: (error) => log({ event: 'labels-error', error: error.message, cause: error.cause?.message }),
});
configure(watch.current(), 'start');

// Closing the watch and stopping the consumer leaves nothing running, so Node exits on its own.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log({ event: 'stopping', signal });
    shutdown.abort();
    consumer.stop();
  });
}
