// Package all registers every family: import it for its side effect where families are
// reached by name (the iagen command, the notebooks, the comparison), so that adding a family
// means one line here.
//
//	import _ "github.com/iagen-course/iagen/lib/family/all"
package all

import (
	_ "github.com/iagen-course/iagen/lib/bert"
	_ "github.com/iagen-course/iagen/lib/classifier"
	_ "github.com/iagen-course/iagen/lib/diffusion"
	_ "github.com/iagen-course/iagen/lib/flow"
	_ "github.com/iagen-course/iagen/lib/gan"
	_ "github.com/iagen-course/iagen/lib/ganapps/superres"
	_ "github.com/iagen-course/iagen/lib/gpt"
	_ "github.com/iagen-course/iagen/lib/rnn"
	_ "github.com/iagen-course/iagen/lib/text2img"
	_ "github.com/iagen-course/iagen/lib/vae"
)
