package main

// FerretDB v1.24.2 answers every request, including an OP_MSG flagged moreToCome (an
// unacknowledged, `w: 0` write, which must get no reply: its own TODO points at FerretDB
// issue 2412). The Node driver reads no reply for such a request and does not match
// replies to requests by responseTo, so the stray reply is handed to the next command
// on that pooled connection, and the connection stays one reply behind: a session
// lookup got a feed document, a page rendered with another member's session.
//
// The guard sits between clients and the server. Clients connect to the TCP address;
// FerretDB itself listens on a private Unix socket. Each connection's requests are
// copied through as they are, and the request ids of those flagged moreToCome are
// remembered; a reply to one of those ids is dropped instead of being passed on. So no
// library's `w: 0` write can put a connection out of step, whatever sends it.

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

const (
	headerLen      = 16
	opMsg          = 2013
	flagMoreToCome = 1 << 1
	// MongoDB's own limit on a message (48 MB); anything larger is a broken stream.
	maxMessageLen = 48 * 1000 * 1000
)

// serveReplyGuard accepts clients on ln and connects each to the server at backend
// (a Unix socket path) until ctx ends.
func serveReplyGuard(ctx context.Context, ln net.Listener, backend string, logger *slog.Logger) {
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				logger.Error("reply guard: accept", slog.Any("error", err))
			}
			return
		}
		go guardConnection(client, backend, logger)
	}
}

func guardConnection(client net.Conn, backend string, logger *slog.Logger) {
	server, err := net.Dial("unix", backend)
	if err != nil {
		logger.Error("reply guard: dial server", slog.Any("error", err))
		_ = client.Close()
		return
	}
	closeBoth := sync.OnceFunc(func() {
		_ = client.Close()
		_ = server.Close()
	})
	defer closeBoth()

	var silent unansweredRequests
	go func() {
		defer closeBoth()
		_ = copyMessages(server, client, func(header []byte, body []byte) bool {
			if isMoreToCome(header, body) {
				silent.add(requestID(header))
			}
			return true
		})
	}()
	_ = copyMessages(client, server, func(header []byte, _ []byte) bool {
		return !silent.takeIfPresent(responseTo(header))
	})
}

// copyMessages reads whole wire messages from src and writes those that pass to dst.
func copyMessages(dst io.Writer, src io.Reader, pass func(header, body []byte) bool) error {
	buf := make([]byte, 64*1024)
	for {
		if _, err := io.ReadFull(src, buf[:headerLen]); err != nil {
			return err
		}
		length := int(int32(binary.LittleEndian.Uint32(buf[:4])))
		if length < headerLen || length > maxMessageLen {
			return fmt.Errorf("wire message of %d bytes", length)
		}
		if length > len(buf) {
			grown := make([]byte, length)
			copy(grown, buf[:headerLen])
			buf = grown
		}
		if _, err := io.ReadFull(src, buf[headerLen:length]); err != nil {
			return err
		}
		if !pass(buf[:headerLen], buf[headerLen:length]) {
			continue
		}
		if _, err := dst.Write(buf[:length]); err != nil {
			return err
		}
	}
}

func requestID(header []byte) int32  { return int32(binary.LittleEndian.Uint32(header[4:8])) }
func responseTo(header []byte) int32 { return int32(binary.LittleEndian.Uint32(header[8:12])) }

// isMoreToCome tells whether a request is an OP_MSG the client expects no reply to.
func isMoreToCome(header, body []byte) bool {
	if int32(binary.LittleEndian.Uint32(header[12:16])) != opMsg || len(body) < 4 {
		return false
	}
	return binary.LittleEndian.Uint32(body[:4])&flagMoreToCome != 0
}

// unansweredRequests holds the ids of requests whose replies must not reach the client.
// The request side adds an id before the request is written to the server, so the
// reply side always finds it.
type unansweredRequests struct {
	mu  sync.Mutex
	ids map[int32]struct{}
}

func (u *unansweredRequests) add(id int32) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ids == nil {
		u.ids = make(map[int32]struct{})
	}
	u.ids[id] = struct{}{}
}

func (u *unansweredRequests) takeIfPresent(id int32) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.ids[id]; !ok {
		return false
	}
	delete(u.ids, id)
	return true
}
