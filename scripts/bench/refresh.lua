-- wrk script for POST /refresh with rotating refresh tokens.
--
-- Run with `-t N -c N` (one connection per thread). Before the run, N
-- sessions are logged in; BENCH_SESSIONS names a file with one refresh
-- token (the value of `refresh_token_cookie`) per line. Thread `id` takes
-- line `id`, so every connection follows its own session's rotation.
--
-- Each response's Set-Cookie is the refresh cookie (wrk keeps only the last
-- Set-Cookie header, and authx-server sends `refresh_token_cookie` last); the
-- CSRF value is the `csrf` claim of the refresh JWT, so it is decoded from the
-- token's payload instead of read from the `csrf_refresh_token` cookie. When
-- no refresh cookie arrives (the FastAPI seed does not rotate), the current
-- token is kept.

local threads = {}
local count = 0

function setup(thread)
   count = count + 1
   thread:set("id", count)
   table.insert(threads, thread)
end

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local dec = {}
for i = 1, #alphabet do dec[alphabet:byte(i)] = i - 1 end

local function b64url_decode(s)
   local out, acc, nbits = {}, 0, 0
   for i = 1, #s do
      local v = dec[s:byte(i)]
      if v == nil then return nil end
      acc = acc * 64 + v
      nbits = nbits + 6
      if nbits >= 8 then
         nbits = nbits - 8
         local p = 2 ^ nbits
         local byte = math.floor(acc / p)
         out[#out + 1] = string.char(byte)
         acc = acc - byte * p
      end
   end
   return table.concat(out)
end

local function csrf_of(token)
   local payload = token:match("^[^.]+%.([^.]+)%.")
   if not payload then return nil end
   local json = b64url_decode(payload)
   return json and json:match('"csrf"%s*:%s*"([^"]*)"')
end

function init(args)
   local path = os.getenv("BENCH_SESSIONS")
   local f = assert(io.open(path, "r"), "cannot open BENCH_SESSIONS file " .. tostring(path))
   local n = 0
   for line in f:lines() do
      n = n + 1
      if n == id then token = line end
   end
   f:close()
   assert(token, "no session line " .. id .. " in " .. path)
   csrf = assert(csrf_of(token), "no csrf claim in the refresh token")
   non200, rotated, decode_fail = 0, 0, 0
end

function request()
   return wrk.format("POST", "/refresh", {
      ["Host"] = wrk.host .. ":" .. wrk.port,
      ["Cookie"] = "refresh_token_cookie=" .. token,
      ["X-CSRF-TOKEN"] = csrf,
   }, "")
end

function response(status, headers, body)
   if status ~= 200 then
      non200 = non200 + 1
      return
   end
   local sc = headers["set-cookie"] or headers["Set-Cookie"]
   if sc then
      local t = sc:match("^refresh_token_cookie=([^;]*)")
      if t and t ~= "" then
         local c = csrf_of(t)
         if c then
            token, csrf = t, c
            rotated = rotated + 1
         else
            decode_fail = decode_fail + 1
         end
      end
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
