// Command floor sends a fixed set of GET requests to Kubernetes API servers
// as the smallest client could: one connection per server, every request
// sent as soon as that connection is open, every answer read and dropped.
// The benchmark runs it with the requests a no-change plan sent, to show
// how long those reads take on the machine by themselves: the floor a plan
// can reach there.
//
//	floor -kubeconfig FILE -requests FILE
//
// The requests file has one request per line: a kubeconfig context, a tab,
// and the request's path and query.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig naming a context per server")
	requests := flag.String("requests", "", "file of requests: a context, a tab, a path")
	flag.Parse()
	if err := run(*kubeconfig, *requests); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, requests string) error {
	paths, order, err := readRequests(requests)
	if err != nil {
		return err
	}
	var g errgroup.Group
	for _, ctx := range order {
		g.Go(func() error { return send(kubeconfig, ctx, paths[ctx]) })
	}
	return g.Wait()
}

// readRequests groups the requests by context, in the order contexts first
// appear.
func readRequests(file string) (map[string][]string, []string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	paths := map[string][]string{}
	var order []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ctx, path, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		if _, seen := paths[ctx]; !seen {
			order = append(order, ctx)
		}
		paths[ctx] = append(paths[ctx], path)
	}
	return paths, order, sc.Err()
}

// send opens the context's connection with its first request and sends the
// others once the handshake is done, so that all of them share it.
func send(kubeconfig, name string, paths []string) error {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: name}).ClientConfig()
	if err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	open := make(chan struct{})
	var once sync.Once
	trace := &httptrace.ClientTrace{
		TLSHandshakeDone: func(tls.ConnectionState, error) { once.Do(func() { close(open) }) },
		GotConn:          func(httptrace.GotConnInfo) { once.Do(func() { close(open) }) },
	}
	first := make(chan error, 1)
	go func() { first <- get(hc, cfg.Host+paths[0], trace) }()
	var g errgroup.Group
	select {
	case <-open:
	case err := <-first: // failed before the connection opened, or answered
		first <- err
	}
	for _, p := range paths[1:] {
		g.Go(func() error { return get(hc, cfg.Host+p, nil) })
	}
	g.Go(func() error { return <-first })
	if err := g.Wait(); err != nil {
		return fmt.Errorf("context %s: %w", name, err)
	}
	return nil
}

func get(hc *http.Client, url string, trace *httptrace.ClientTrace) error {
	ctx := context.Background()
	if trace != nil {
		ctx = httptrace.WithClientTrace(ctx, trace)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
