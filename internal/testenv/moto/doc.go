// Package moto starts a private moto_server (the AWS service emulator from
// the Python moto package) for tests: on a free loopback port, with static
// dummy credentials and Region us-east-1, stopped when the test ends.
//
// moto_server comes from the machine's pyenv Python (moto 5.2.1 speaks the
// JSON protocol of aws-sdk-go-v2 service/sqs v1.53.0). It is found, in
// order, through $TOLLGATE_MOTO_SERVER, $PATH, and the pyenv shims under
// $PYENV_ROOT or ~/.pyenv. When it is missing the test fails if CI=true and
// is skipped otherwise.
package moto
