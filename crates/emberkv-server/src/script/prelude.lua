-- The sandbox every worker's Lua state starts with (engine.rs runs it
-- once per state): redis.call/pcall errors routed through __pending,
-- Redis's pcall, read-only globals and libraries, and FUNCTION LOAD's
-- environment. It returns the runners engine.rs keeps: run, run_fn,
-- load_library.
local G0 = _G
local pending, errline, xpcall, pcall_, rawset_, type, rawget_, tostring, error, select, unpack =
    __pending, __errline, xpcall, pcall, rawset, type, rawget, tostring, error, select, unpack
local next_, setmetatable_, getmetatable_, setfenv_ = next, setmetatable, getmetatable, setfenv
local rawget = rawget_
local R = __redis
local killed = __killed
-- An error raised by redis.call arrives as a userdata; its text and line
-- were recorded on the Rust side (`__pending`).
local function handler(e)
    if type(e) == 'userdata' then
        local m, l, p = pending()
        if m then return {m, l, p} end
    end
    local line = errline()
    if type(e) == 'table' and rawget(e, 'err') ~= nil then
        return {tostring(rawget(e, 'err')), line, false}
    end
    return {tostring(e), line, true}
end
local run = function(f) return xpcall(f, handler) end
-- Redis's pcall hands error tables and redis.call errors back as strings.
local function fix(ok, ...)
    if ok then return ok, ... end
    local e = ...
    -- SCRIPT KILL's error must reach the top: a script looping through
    -- pcall would otherwise swallow it and never stop (Redis's hook keeps
    -- raising it for the same reason).
    if killed() then error(e, 0) end
    if type(e) == 'userdata' then
        local m = pending()
        if m then e = m end
    elseif type(e) == 'table' and rawget(e, 'err') ~= nil then
        e = rawget(e, 'err')
    end
    return false, e
end
pcall = function(...) return fix(pcall_(...)) end
local function rethrow_kill(ok, ...)
    if not ok and killed() then error((...), 0) end
    return ok, ...
end
rawset_(G0, 'xpcall', function(...) return rethrow_kill(xpcall(...)) end)
do
    local resume = coroutine.resume
    coroutine.resume = function(...) return rethrow_kill(resume(...)) end
end
dofile, loadfile, print, setfenv, getfenv, newproxy = nil, nil, nil, nil, nil, nil
local G = _G
-- Read-only globals and libraries, as Redis 7 has them: a script must not
-- change what the next script sees (the Lua state outlives it). Each
-- protected table becomes an empty proxy that reads through to the real
-- one and refuses writes; rawset, rawget, next, pairs and setmetatable see
-- through proxies (writes refused) so they behave as on the real tables.
local backing_of = {}
local function ro() error('Attempt to modify a readonly table', 2) end
local function protect(t)
    local p = setmetatable_({}, {__index = t, __newindex = ro, __metatable = false})
    backing_of[p] = t
    return p
end
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'cmsgpack', 'struct'}) do
    local lib = rawget_(G, name)
    if lib then rawset_(G, name, protect(lib)) end
end
redis = protect(R)
-- String methods go through the string proxy; getmetatable('') shows a
-- read-only view of the string metatable.
local smt = getmetatable_('')
smt.__index = rawget_(G, 'string')
smt.__metatable = protect({__index = smt.__index})
rawset = function(t, k, v)
    if backing_of[t] then error('Attempt to modify a readonly table', 0) end
    return rawset_(t, k, v)
end
setmetatable = function(t, mt)
    if backing_of[t] then error('Attempt to modify a readonly table', 0) end
    return setmetatable_(t, mt)
end
rawset_(G, 'rawget', function(t, k) return rawget_(backing_of[t] or t, k) end)
next = function(t, k) return next_(backing_of[t] or t, k) end
pairs = function(t) return next_, backing_of[t] or t, nil end
-- FUNCTION LOAD: the library runs in its own environment whose `redis`
-- offers only register_function, log and the constants while loading, and
-- the whole API once loaded (to the functions it registered).
local LOAD_API = {log = true, LOG_DEBUG = true, LOG_VERBOSE = true,
    LOG_NOTICE = true, LOG_WARNING = true, REDIS_VERSION = true, REDIS_VERSION_NUM = true}
local load_library = function(f, register)
    local loading = true
    local api = setmetatable_({}, {
        __index = function(_, k)
            if k == 'register_function' and loading then return register end
            if loading and not LOAD_API[k] then
                error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
            end
            return R[k]
        end,
        __newindex = function() error('Attempt to modify a readonly table', 2) end,
        __metatable = false,
    })
    -- While it loads, a library sees no global but `redis` (as in Redis,
    -- whose load environment holds only that); its functions see them all.
    local env = setmetatable_({}, {
        __index = function(_, k)
            if k == 'redis' then return api end
            if loading then
                error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
            end
            return _G[k]
        end,
        __newindex = function() error('Attempt to modify a readonly table', 2) end,
        __metatable = false,
    })
    setfenv_(f, env)
    local ok, e = xpcall(f, handler)
    loading = false
    return ok, e
end
local run_fn = function(f, keys, args)
    return xpcall(function() return f(keys, args) end, handler)
end
__redis, __pending, __errline, __killed = nil, nil, nil, nil
-- The globals themselves: _G becomes an empty proxy over the real ones,
-- so assigning an existing global (`redis = nil`, `ARGV = {}`) is refused
-- like creating one. Reading a missing global is an error.
local globals = {}
for k, v in next_, G do globals[k] = v end
for k in next_, globals do rawset_(G, k, nil) end
setmetatable_(globals, {
    __index = function(_, k)
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end,
})
setmetatable_(G, {__index = globals, __newindex = ro, __metatable = false})
backing_of[G] = globals
return run, run_fn, load_library
