-- wrk script for scripts/loadbench.sh: POSTs one real, signed webhook
-- delivery (BODY_FILE, signed as SIGNATURE) with a delivery id never sent
-- before on every request (a GUID made of a hash of RUN_ID, the thread and a
-- counter: hotfix-guard refuses ids that are not GUID-shaped), so hotfix-guard's
-- de-duplication never answers from memory. At the end it prints one
-- machine-readable RESULT line.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  local file = assert(io.open(assert(os.getenv("BODY_FILE"), "BODY_FILE unset"), "rb"))
  local body = file:read("*a")
  file:close()
  local run, h = os.getenv("RUN_ID") or "run", 5381
  for i = 1, #run do
    h = (h * 33 + run:byte(i)) % 4294967296
  end
  prefix = string.format("%08x-%04x-4000-8000-", h, tid)
  counter = 0
  wrk.method = "POST"
  wrk.path = "/webhook"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["User-Agent"] = "GitHub-Hookshot/wrk"
  wrk.headers["X-GitHub-Event"] = os.getenv("EVENT") or "pull_request"
  wrk.headers["X-Hub-Signature-256"] = assert(os.getenv("SIGNATURE"), "SIGNATURE unset")
end

function request()
  counter = counter + 1
  wrk.headers["X-GitHub-Delivery"] = prefix .. string.format("%012x", counter)
  return wrk.format()
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d socket_errors=%d timeouts=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors.status, errors.connect + errors.read + errors.write, errors.timeout))
end
