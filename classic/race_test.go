//go:build race

package classic_test

// raceBuild makes TestMain build the server with the race detector too
// when the tests run under it: the code under test runs in the server
// processes, not in the test binary.
const raceBuild = true
