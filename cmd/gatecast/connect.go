package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// connect is a minimal interactive client: each line on stdin is sent as a
// text message and each message received is printed on stdout, so
//
//	echo hello | gatecast connect ws://127.0.0.1:8080/
//
// prints "hello" back from the echo route.
func connect(args []string) int {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	wait := fs.Duration("wait", 2*time.Second, "after stdin ends, how long to wait for more messages before closing")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: gatecast connect [--wait 2s] ws://HOST:PORT/PATH")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	c, _, _, err := ws.Dial(ctx, fs.Arg(0))
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatecast connect: %v\n", err)
		return 1
	}
	defer c.Close()

	received := make(chan error, 1)
	go func() {
		for {
			msg, _, err := wsutil.ReadServerData(c)
			if err != nil {
				received <- err
				return
			}
			fmt.Printf("%s\n", msg)
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	for in.Scan() {
		if err := wsutil.WriteClientText(c, in.Bytes()); err != nil {
			fmt.Fprintf(os.Stderr, "gatecast connect: send: %v\n", err)
			return 1
		}
	}
	select {
	case err := <-received:
		return reportEnd(err)
	case <-time.After(*wait):
	}
	wsutil.WriteClientMessage(c, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	select {
	case err := <-received:
		return reportEnd(err)
	case <-time.After(time.Second):
		return 0
	}
}

func reportEnd(err error) int {
	var closed wsutil.ClosedError
	switch {
	case errors.As(err, &closed) && (closed.Code == ws.StatusNormalClosure || closed.Code == ws.StatusGoingAway):
		return 0
	case errors.As(err, &closed):
		fmt.Fprintf(os.Stderr, "gatecast connect: closed by server: %d %s\n", closed.Code, closed.Reason)
		return 1
	case errors.Is(err, io.EOF):
		return 0
	}
	fmt.Fprintf(os.Stderr, "gatecast connect: %v\n", err)
	return 1
}
