package lock

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// ciJobs are the variables the usual CI services set, in the order they are
// looked for: the first whose job variable is set names the job.
var ciJobs = []struct{ name, job, project, url string }{
	{"GitHub Actions", "GITHUB_RUN_ID", "GITHUB_REPOSITORY", ""},
	{"GitLab CI", "CI_JOB_ID", "CI_PROJECT_PATH", "CI_JOB_URL"},
	{"Buildkite", "BUILDKITE_BUILD_ID", "BUILDKITE_PIPELINE_SLUG", "BUILDKITE_BUILD_URL"},
	{"CircleCI", "CIRCLE_WORKFLOW_JOB_ID", "CIRCLE_PROJECT_REPONAME", "CIRCLE_BUILD_URL"},
	{"Jenkins", "BUILD_TAG", "JOB_NAME", "BUILD_URL"},
}

// Identity names a run for others to read in the lock: user and host, the
// CI job when the usual CI variables are set, and a random suffix so that two
// runs by one user on one host are two holders.
func Identity(getenv func(string) string, host string, pid int) string {
	user := firstSet(getenv, "USER", "USERNAME", "LOGNAME")
	if user == "" {
		user = "unknown"
	}
	id := fmt.Sprintf("%s@%s pid %d", user, host, pid)
	for _, ci := range ciJobs {
		job := getenv(ci.job)
		if job == "" {
			continue
		}
		parts := []string{ci.name, "job " + job}
		if p := getenv(ci.project); p != "" {
			parts = append(parts, p)
		}
		if ci.url != "" && getenv(ci.url) != "" {
			parts = append(parts, getenv(ci.url))
		}
		id += " (" + strings.Join(parts, ", ") + ")"
		break
	}
	return id + " #" + nonce()
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

func nonce() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
