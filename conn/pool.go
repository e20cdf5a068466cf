package conn

import (
	"sync"
	"unsafe"
)

// Byte buffers in size classes. Buffers live only while bytes move: a
// partial frame, a message being reassembled, an unsent tail. sync.Pool
// lets the garbage collector take them back after a burst, so memory that
// grew for a 128 KiB message shrinks again.
//
// The pools hold a pointer to the buffer's first byte rather than the slice
// itself, so that Put does not allocate a slice header.

var bufClasses = [...]int{512, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20}

const maxPooled = 1 << 20

var bufPools [len(bufClasses)]sync.Pool

func bufClass(n int) int {
	for i, size := range bufClasses {
		if n <= size {
			return i
		}
	}
	return -1
}

// getBuf returns an empty buffer with capacity at least n.
func getBuf(n int) []byte {
	i := bufClass(n)
	if i < 0 {
		return make([]byte, 0, n)
	}
	if p, ok := bufPools[i].Get().(unsafe.Pointer); ok {
		return unsafe.Slice((*byte)(p), bufClasses[i])[:0]
	}
	return make([]byte, 0, bufClasses[i])
}

// putBuf returns b to its pool. b must not be used afterwards.
func putBuf(b []byte) {
	c := cap(b)
	if c == 0 {
		return
	}
	i := bufClass(c)
	if i < 0 || bufClasses[i] != c {
		return
	}
	bufPools[i].Put(unsafe.Pointer(unsafe.SliceData(b[:1])))
}

// growBuf returns a buffer holding b's bytes with room for n more.
func growBuf(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := getBuf(len(b) + n)
	nb = append(nb, b...)
	putBuf(b)
	return nb
}
