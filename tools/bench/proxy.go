// Package bench measures nekoctl against emulated services and real API
// servers placed a chosen round-trip time away (see run.sh).
package bench

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// delayProxy forwards TCP connections to target, delaying every chunk by
// half the round-trip time in each direction and the connection itself by
// one round trip (the TCP handshake), so that a client on loopback sees the
// service as if it were rtt away.
type delayProxy struct {
	ln     net.Listener
	target string
	rtt    time.Duration
	wg     sync.WaitGroup
	// trace, when set, is told of every connection and every chunk
	// forwarded (see -trace), to find the round trips a run waits on.
	trace func(conn int, what string)
	conns atomic.Int64
}

func startProxy(target string, rtt time.Duration, trace func(conn int, what string)) (*delayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &delayProxy{ln: ln, target: target, rtt: rtt, trace: trace}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *delayProxy) Addr() string { return p.ln.Addr().String() }

func (p *delayProxy) Close() {
	p.ln.Close()
	p.wg.Wait()
}

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *delayProxy) handle(c net.Conn) {
	defer c.Close()
	id := int(p.conns.Add(1))
	p.note(id, "connect")
	time.Sleep(p.rtt) // SYN, SYN-ACK
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() { p.pipe(u, c, id, "request"); done <- struct{}{} }()
	go func() { p.pipe(c, u, id, "response"); done <- struct{}{} }()
	<-done
	<-done
}

func (p *delayProxy) note(id int, what string) {
	if p.trace != nil {
		p.trace(id, what)
	}
}

type chunk struct {
	data []byte
	at   time.Time
}

// pipe copies src to dst, each chunk rtt/2 after it was read, in order.
func (p *delayProxy) pipe(dst, src net.Conn, id int, dir string) {
	defer func() {
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	if p.rtt == 0 && p.trace == nil {
		_, _ = io.Copy(dst, src)
		return
	}
	ch := make(chan chunk, 4096)
	go func() {
		defer close(ch)
		// One read buffer, each chunk copied out at its own size: most
		// chunks are a few hundred bytes, and a buffer per read would make
		// this process (which shares the cores with the run it measures)
		// allocate and collect megabytes per run.
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.note(id, fmt.Sprintf("%s %d B", dir, n))
				ch <- chunk{bytes.Clone(buf[:n]), time.Now().Add(p.rtt / 2)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.data); err != nil {
			for range ch { // drain so the reader ends
			}
			return
		}
	}
}
