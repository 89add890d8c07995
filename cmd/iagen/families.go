package main

// Every family registers itself with lib/family when imported; lib/family/all imports them all.
import _ "github.com/iagen-course/iagen/lib/family/all"
