package app

// BuildPools exposes buildPools to the tests (the pools without the
// dispatcher, which needs branch pcore's dispatch.Pool).
var BuildPools = buildPools
