package main

// Every family registers itself with lib/family when imported.
import (
	_ "github.com/iagen-course/iagen/lib/classifier"
	_ "github.com/iagen-course/iagen/lib/gan"
	_ "github.com/iagen-course/iagen/lib/gpt"
	_ "github.com/iagen-course/iagen/lib/vae"
)
