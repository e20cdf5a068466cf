//go:build linux

package main

// Minimal io_uring (no liburing): used only to submit the fan-out as batches
// of IORING_OP_SEND, i.e. to see how much of a write's cost is the syscall
// boundary itself.

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

type ioUringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	cqOff struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
}

type sqe struct {
	opcode   uint8
	flags    uint8
	ioprio   uint16
	fd       int32
	off      uint64
	addr     uint64
	len      uint32
	msgFlags uint32
	userData uint64
	bufIndex uint16
	person   uint16
	spliceFd int32
	addr3    uint64
	pad      uint64
}

type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

type uring struct {
	fd                     int
	sqHead, sqTail, sqMask *uint32
	sqArray                []uint32
	sqes                   []sqe
	cqHead, cqTail, cqMask *uint32
	cqes                   []cqe
	entries                uint32
}

const (
	ioringOpSend       = 26
	ioringEnterGetEvts = 1
	ioringOffSQRing    = 0
	ioringOffCQRing    = 0x8000000
	ioringOffSQEs      = 0x10000000
)

func newUring(entries uint32) (*uring, error) {
	var p ioUringParams
	if unsafe.Sizeof(p) != 120 || unsafe.Sizeof(sqe{}) != 64 {
		panic("io_uring struct layout")
	}
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, fmt.Errorf("io_uring_setup: %v", e)
	}
	u := &uring{fd: int(fd), entries: p.sqEntries}
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(cqe{})))
	sq, err := unix.Mmap(u.fd, ioringOffSQRing, sqSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	cq, err := unix.Mmap(u.fd, ioringOffCQRing, cqSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	sqeMem, err := unix.Mmap(u.fd, ioringOffSQEs, int(p.sqEntries)*64, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	u.sqHead, u.sqTail, u.sqMask = u32(sq, p.sqOff.head), u32(sq, p.sqOff.tail), u32(sq, p.sqOff.ringMask)
	u.sqArray = unsafe.Slice((*uint32)(unsafe.Pointer(&sq[p.sqOff.array])), p.sqEntries)
	u.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&sqeMem[0])), p.sqEntries)
	u.cqHead, u.cqTail, u.cqMask = u32(cq, p.cqOff.head), u32(cq, p.cqOff.tail), u32(cq, p.cqOff.ringMask)
	u.cqes = unsafe.Slice((*cqe)(unsafe.Pointer(&cq[p.cqOff.cqes])), p.cqEntries)
	return u, nil
}

// sendAll sends buf on every fd, in batches of the SQ size, one
// io_uring_enter per batch (submit + wait for all completions).
func (u *uring) sendAll(fds []int, buf []byte) (errs int64) {
	addr := uint64(uintptr(unsafe.Pointer(&buf[0])))
	for len(fds) > 0 {
		k := min(len(fds), int(u.entries))
		tail := atomic.LoadUint32(u.sqTail)
		mask := *u.sqMask
		for i := 0; i < k; i++ {
			idx := (tail + uint32(i)) & mask
			u.sqes[idx] = sqe{opcode: ioringOpSend, fd: int32(fds[i]), addr: addr, len: uint32(len(buf)), msgFlags: unix.MSG_DONTWAIT}
			u.sqArray[idx] = idx
		}
		atomic.StoreUint32(u.sqTail, tail+uint32(k))
		done := 0
		for done < k {
			_, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), uintptr(k-done), uintptr(k-done), ioringEnterGetEvts, 0, 0)
			if e != 0 && e != unix.EINTR {
				panic(fmt.Sprintf("io_uring_enter: %v", e))
			}
			head := atomic.LoadUint32(u.cqHead)
			ctail := atomic.LoadUint32(u.cqTail)
			for ; head != ctail; head++ {
				if u.cqes[head&*u.cqMask].res != int32(len(buf)) {
					errs++
				}
				done++
			}
			atomic.StoreUint32(u.cqHead, head)
		}
		fds = fds[k:]
	}
	return
}
