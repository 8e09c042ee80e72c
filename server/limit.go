package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps a token bucket per user.
type limiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	users map[int64]*rate.Limiter
}

func newLimiter(perSecond float64, burst int) *limiter {
	return &limiter{rate: rate.Limit(perSecond), burst: burst, users: map[int64]*rate.Limiter{}}
}

// allow takes a token of a user's bucket; when there is none, it says how
// long until there is.
func (l *limiter) allow(user int64) (time.Duration, bool) {
	if l.rate <= 0 {
		return 0, true
	}
	l.mu.Lock()
	lim, ok := l.users[user]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.users[user] = lim
	}
	l.mu.Unlock()
	res := lim.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return d, false
	}
	return 0, true
}
