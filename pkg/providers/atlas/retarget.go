package atlas

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ClusterHost returns the SRV host of a cluster of the stack's project
// (the stack's own or a restore target), or an error naming it when it
// does not exist.
func (p *Provider) ClusterHost(ctx context.Context, cluster string) (string, error) {
	if err := p.needClient(); err != nil {
		return "", err
	}
	gid, err := p.projectID(ctx)
	if err != nil {
		return "", err
	}
	c, err := p.getCluster(ctx, gid, cluster)
	switch {
	case err != nil:
		return "", fmt.Errorf("reading cluster %q: %w", cluster, err)
	case c == nil:
		return "", fmt.Errorf("cluster %q does not exist in project %q", cluster, p.atlas().Project)
	}
	cs := c.GetConnectionStrings()
	host := strings.TrimSuffix(strings.TrimPrefix(cs.GetStandardSrv(), "mongodb+srv://"), "/")
	if host == "" {
		return "", fmt.Errorf("cluster %q has no connection string yet (%s)", cluster, c.GetStateName())
	}
	return host, nil
}

// Retarget returns the application's connection string uri pointed at
// host: the same user, password, database and options. Users belong to the
// project, so the credentials hold on every cluster in it. The error never
// repeats uri, which holds the password.
func Retarget(uri, host string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return "", errors.New("the connection string in the region's Secret cannot be parsed")
	}
	u.Host = host
	return u.String(), nil
}
