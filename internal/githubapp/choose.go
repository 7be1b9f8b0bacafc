package githubapp

import "time"

// Candidate is one App as the choice of App for a call sees it.
type Candidate struct {
	// Installed: the App is installed on the call's owner (its installation is known).
	Installed bool
	// Wait is how long until the App may send the call: its own pacing on the call's
	// endpoint, or the rest of a wait GitHub itself asked of it. 0 means at once.
	Wait time.Duration
}

// Choose is the one rule by which every function picks the App a GitHub call goes out as
// (docs/decisions.md): among the Apps installed on the owner, the first, in the deployment's
// order (the webhook App first), that may send at once; when none may, the one that may send
// soonest (the earlier on a tie). It returns -1 when no App is installed.
//
// Preferring the earliest ready App rather than spreading evenly keeps the calls of a quiet
// deployment on one App, so a container mints one installation token per owner, not one per
// App; a burst spills over to the next App only when the previous one's budget is spent.
// Candidates may be a prefix of the Apps: whoever builds them may stop at the first ready one.
func Choose(cands []Candidate) int {
	best := -1
	for i, c := range cands {
		if !c.Installed {
			continue
		}
		if c.Wait <= 0 {
			return i
		}
		if best < 0 || c.Wait < cands[best].Wait {
			best = i
		}
	}
	return best
}
