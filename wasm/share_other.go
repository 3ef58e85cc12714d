//go:build !js

package main

import "flag"

var linkFlag = flag.String("link", "", "open the view of a demo link: its fragment, e.g. 'model=sq-none&target=H&crop=150,100,200,200'")

func urlFragment() string { return *linkFlag }
