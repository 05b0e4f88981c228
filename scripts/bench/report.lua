-- wrk script for the static-request runs (/protected, /healthz): no
-- request()/response() hooks, so wrk stays in its fast static mode; done()
-- prints one machine-readable line that run.sh parses.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%.1f p99_us=%.1f non2xx=%d " ..
      "sock_connect=%d sock_read=%d sock_write=%d sock_timeout=%d non200=-1 rotated=-1\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      e.status, e.connect, e.read, e.write, e.timeout))
end
