#!/bin/sh
# Builds kube-apiserver and etcd for the Kubernetes tests into the test
# cache ($NEKOCTL_TEST_CACHE, default ~/.cache/nekoctl-test/<version>) and
# prints the directory. A second run finds the cache and returns at once.
# The tests build on their own when the cache is empty; CI runs this first
# so the cold build (about 5-10 minutes) does not count against a test's timeout.
set -eu
cd "$(dirname "$0")/../.."
exec go run ./pkg/kubetest/cmd/kubetest-build
