package redisx

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts. Each is the shared prelude followed by its body, run with
// EVALSHA (EVAL once if the server does not have it cached yet).
var (
	//go:embed lua/prelude.lua
	preludeLua string
	//go:embed lua/admit.lua
	admitLua string
	//go:embed lua/setlimit.lua
	setLimitLua string
	//go:embed lua/adjust.lua
	adjustLua string
	//go:embed lua/heartbeat.lua
	heartbeatLua string
	//go:embed lua/learner_cas.lua
	learnerCASLua string
	//go:embed lua/cache_get.lua
	cacheGetLua string
	//go:embed lua/cache_set.lua
	cacheSetLua string
	//go:embed lua/cache_unlock.lua
	cacheUnlockLua string

	admitScript      = redis.NewScript(preludeLua + admitLua)
	setLimitScript   = redis.NewScript(preludeLua + setLimitLua)
	adjustScript     = redis.NewScript(preludeLua + adjustLua)
	heartbeatScript  = redis.NewScript(preludeLua + heartbeatLua)
	learnerCASScript = redis.NewScript(learnerCASLua)
	cacheGetScript   = redis.NewScript(cacheGetLua)
	cacheSetScript   = redis.NewScript(cacheSetLua)
	cacheUnlockScr   = redis.NewScript(cacheUnlockLua)
)
