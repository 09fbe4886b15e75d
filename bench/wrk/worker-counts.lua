-- Counts responses per worker: the apps name their worker in an `x-worker`
-- header (its pid). Each wrk thread counts in its own Lua state; done() adds
-- the threads' counts and prints one line per worker: `worker PID COUNT`.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
end

function response(status, headers, body)
  local worker = headers["x-worker"] or "none"
  counts[worker] = (counts[worker] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for worker, count in pairs(thread:get("counts")) do
      total[worker] = (total[worker] or 0) + count
    end
  end
  for worker, count in pairs(total) do
    io.write(string.format("worker %s %d\n", worker, count))
  end
end
