// Sends Segment calls through the official @segment/analytics-node client, unchanged.
//
// Usage: node send.mjs '<json>' where json is
//   {"writeKey": "...", "host": "http://127.0.0.1:PORT", "flushAt": 3,
//    "auth": "both" | "basic-only",
//    "calls": [{"method": "track", "params": {...}}, ...]}
// "basic-only" strips writeKey from the request body (through the client's documented
// httpClient option), so only the Basic auth header carries it.
// Prints one JSON line per call: {"method", "messageId", "timestamp", "error"}, then one line per HTTP
// response: {"status"}. Exits 1 when any call failed.
import { Analytics } from '@segment/analytics-node'

const config = JSON.parse(process.argv[2])

function basicOnlyFetch(url, init) {
  const body = JSON.parse(init.body)
  delete body.writeKey
  return fetch(url, { ...init, body: JSON.stringify(body) })
}

const analytics = new Analytics({
  writeKey: config.writeKey,
  host: config.host,
  flushAt: config.flushAt ?? 3,
  flushInterval: 200,
  maxRetries: 2,
  httpRequestTimeout: 10000,
  ...(config.auth === 'basic-only' ? { httpClient: basicOnlyFetch } : {}),
})

const statuses = []
analytics.on('http_response', (response) => statuses.push(response.status))

const pending = Promise.all(
  config.calls.map(
    ({ method, params }) =>
      new Promise((resolve) => {
        analytics[method](params, (error, ctx) =>
          resolve({
            method,
            messageId: ctx?.event?.messageId ?? null,
            timestamp: ctx?.event?.timestamp ?? null,
            error: error ? String(error.reason ?? error) : null,
          })
        )
      })
  )
)
await analytics.closeAndFlush({ timeout: 20000 })
const results = await pending

for (const result of results) console.log(JSON.stringify(result))
for (const status of statuses) console.log(JSON.stringify({ status }))
process.exit(results.some((result) => result.error) ? 1 : 0)
