package main

import "github.com/posprobe/posprobe/wasm/demo"

// urlShare is the view the page's link asks for: the fragment
// (#model=...&target=...&crop=x,y,w,h&photo=...), else the older query
// parameters ?model=, ?target=, ?photo=.
func urlShare() demo.Share {
	s, errs := demo.ParseShare(urlFragment())
	for _, err := range errs {
		logf("STATUS %v", err)
	}
	if k := queryParam("model"); s.Model == "" && demo.ModelIndex(k) >= 0 {
		s.Model = k
	}
	if t := queryParam("target"); s.Target == "" && demo.TargetNames[t] != "" {
		s.Target = t
	}
	if s.Photo == "" {
		s.Photo = queryParam("photo")
	}
	return s
}
