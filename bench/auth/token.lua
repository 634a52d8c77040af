-- wrk script for bench/auth/run: every request carries
-- "Authorization: Bearer TOKEN", the tokens taken in turn from the file
-- named by $CC_BENCH_TOKENS (one per line).

local tokens = {}
local n = 0

for line in io.lines(os.getenv("CC_BENCH_TOKENS")) do
    n = n + 1
    tokens[n] = "Bearer " .. line
end

local i = 0

request = function()
    i = i % n + 1
    return wrk.format("GET", nil, { Authorization = tokens[i] })
end
