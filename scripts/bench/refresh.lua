-- wrk script for POST /refresh with rotating refresh tokens.
--
-- Before the run, N sessions are logged in; BENCH_SESSIONS names a file with
-- one refresh token (the value of `refresh_token_cookie`) per line. Run with
-- `-t T -c N` and BENCH_REFRESH_THREADS=T: thread `id` takes every T-th line, one
-- session per connection, so a few threads can drive many connections (the
-- client shares the machine's cores with the server it measures).
--
-- A connection has one request in flight, so each request takes a session
-- that is not in flight from the thread's pool, and each response puts the
-- session back with its rotated token. Each response's Set-Cookie is the
-- refresh cookie (wrk keeps only the last Set-Cookie header, and
-- authx-server sends `refresh_token_cookie` last); the CSRF value is the
-- `csrf` claim of the refresh JWT, so it is decoded from the token's payload
-- instead of read from the `csrf_refresh_token` cookie. A server that does
-- not rotate (the FastAPI seed) sends no refresh cookie: the thread then
-- keeps its sessions' tokens and takes them in turn.

local threads = {}
local count = 0

function setup(thread)
   count = count + 1
   thread:set("id", count)
   table.insert(threads, thread)
end

-- base64url decoding with LuaJIT's bit operations, four characters at a
-- time, stopping as soon as the csrf claim is complete: the client's own
-- cost per response is part of the measurement, and a per-byte decoder
-- with float arithmetic cost wrk more CPU per request than the server.
local bit = require("bit")
local band, bor, lshift, rshift = bit.band, bit.bor, bit.lshift, bit.rshift
local char, byte, find = string.char, string.byte, string.find
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local dec = {}
for i = 1, #alphabet do dec[alphabet:byte(i)] = i - 1 end

local function csrf_of(token)
   local first = find(token, ".", 1, true)
   if not first then return nil end
   local last = find(token, ".", first + 1, true)
   if not last then return nil end
   local parts, n, json = {}, 0, ""
   local i = first + 1
   while i + 3 < last do
      local a, b, c, d = byte(token, i, i + 3)
      a, b, c, d = dec[a], dec[b], dec[c], dec[d]
      if not (a and b and c and d) then return nil end
      local v = bor(lshift(a, 18), lshift(b, 12), lshift(c, 6), d)
      n = n + 1
      parts[n] = char(rshift(v, 16), band(rshift(v, 8), 255), band(v, 255))
      i = i + 4
      if n % 8 == 0 then
         json = table.concat(parts, "", 1, n)
         local value = json:match('"csrf"%s*:%s*"([^"]*)"')
         if value then return value end
      end
   end
   -- the tail (2 or 3 characters)
   local rest = last - i
   if rest >= 2 then
      local a, b, c = byte(token, i, i + 2)
      a, b = dec[a], dec[b]
      if not (a and b) then return nil end
      local v = bor(lshift(a, 18), lshift(b, 12))
      n = n + 1
      if rest == 3 then
         c = dec[c]
         if not c then return nil end
         v = bor(v, lshift(c, 6))
         parts[n] = char(rshift(v, 16), band(rshift(v, 8), 255))
      else
         parts[n] = char(rshift(v, 16))
      end
   end
   json = table.concat(parts, "", 1, n)
   return json:match('"csrf"%s*:%s*"([^"]*)"')
end

function init(args)
   local path = os.getenv("BENCH_SESSIONS")
   local nthreads = tonumber(os.getenv("BENCH_REFRESH_THREADS") or "1")
   local f = assert(io.open(path, "r"), "cannot open BENCH_SESSIONS file " .. tostring(path))
   sessions, ready, nready = {}, {}, 0
   local n = 0
   for line in f:lines() do
      n = n + 1
      if (n - 1) % nthreads == id - 1 then
         local c = assert(csrf_of(line), "no csrf claim in the refresh token on line " .. n)
         sessions[#sessions + 1] = { line, c }
      end
   end
   f:close()
   assert(#sessions > 0, "no session for thread " .. id .. " in " .. path)
   for i, s in ipairs(sessions) do ready[i] = s end
   nready = #ready
   rotating, turn = true, 0
   -- wrk calls thread 1's request() once before the run, to check the
   -- request it builds; that call must not take a session from the pool.
   verify_call = id == 1
   non200, rotated, decode_fail, starved = 0, 0, 0, 0
end

local function refresh_request(s)
   return wrk.format("POST", "/refresh", {
      ["Host"] = wrk.host .. ":" .. wrk.port,
      ["Cookie"] = "refresh_token_cookie=" .. s[1],
      ["X-CSRF-TOKEN"] = s[2],
   }, "")
end

function request()
   if verify_call then
      verify_call = false
      return refresh_request(sessions[1])
   end
   if not rotating then
      turn = turn % #sessions + 1
      return refresh_request(sessions[turn])
   end
   if nready == 0 then
      -- Every session is in flight or was lost to an error response: send
      -- a request that fails, so the run shows it (non-200).
      starved = starved + 1
      return refresh_request({ "", "" })
   end
   local s = ready[nready]
   ready[nready] = nil
   nready = nready - 1
   return refresh_request(s)
end

function response(status, headers, body)
   if status ~= 200 then
      non200 = non200 + 1
      return
   end
   local sc = headers["set-cookie"] or headers["Set-Cookie"]
   local t = sc and sc:match("^refresh_token_cookie=([^;]*)")
   if t and t ~= "" then
      local c = csrf_of(t)
      if c then
         nready = nready + 1
         ready[nready] = { t, c }
         rotated = rotated + 1
      else
         decode_fail = decode_fail + 1
      end
   elseif rotating then
      -- No rotation: the tokens logged in with stay valid; take them in turn.
      rotating = false
   end
end

function done(summary, latency, requests)
   local bad, rot, df = 0, 0, 0
   for _, t in ipairs(threads) do
      bad = bad + t:get("non200")
      rot = rot + t:get("rotated")
      df = df + t:get("decode_fail")
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%.1f p99_us=%.1f non2xx=%d " ..
      "sock_connect=%d sock_read=%d sock_write=%d sock_timeout=%d non200=%d rotated=%d decode_fail=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      e.status, e.connect, e.read, e.write, e.timeout, bad, rot, df))
end
