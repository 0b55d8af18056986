package adaptive

// ring is a fixed-size FIFO that overwrites its oldest entry when full.
type ring[T any] struct {
	buf  []T
	head int // index of the oldest entry
	n    int
}

func newRing[T any](size int) ring[T] { return ring[T]{buf: make([]T, size)} }

func (r *ring[T]) len() int { return r.n }

// at returns the i-th entry, 0 being the oldest.
func (r *ring[T]) at(i int) T { return r.buf[(r.head+i)%len(r.buf)] }

func (r *ring[T]) push(v T) {
	if r.n < len(r.buf) {
		r.buf[(r.head+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.head] = v
	r.head = (r.head + 1) % len(r.buf)
}

func (r *ring[T]) clear() { r.head, r.n = 0, 0 }
