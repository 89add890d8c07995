package gan

import (
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

// players is what a GAN's training step needs: the two networks, their losses and their
// optimizers (each with its own state).
type players struct {
	gen, disc       func(scope *model.Scope, x *graph.Node) *graph.Node
	discLoss        func(realLogits, fakeLogits *graph.Node) *graph.Node
	genLoss         func(fakeLogits *graph.Node) *graph.Node
	discOpt, genOpt optimizer.Interface
	// afterGen, if set, runs once G's forward pass is built and before any update (G's EMA).
	afterGen func(g *graph.Graph)
}

// stepMetrics are the step's outputs: the two losses, then D's mean probability of "real" on
// the real and on the fake batch.
var stepMetrics = []string{"d_loss", "g_loss", "d_real", "d_fake"}

// newStep compiles one training step of a GAN (Goodfellow et al. 2014, Algorithm 1, k = 1) as
// one execution. Its inputs are the real batch, then D's and G's learning rates if schedule is
// set. The step:
//
//  1. z ~ N(0, I) of shape zShape, drawn from the store's random state, and fake = G(z), once:
//     G's forward pass and its batch statistics, as in PyTorch's DCGAN loop;
//  2. D's update on the real batch and fake, with fake a constant (StopGradient);
//  3. G's update through the just-updated D on the same fake, D's new weights held constant.
func newStep(b compute.Backend, store *model.Store, p players, zShape shapes.Shape, schedule bool) (*train.Exec, error) {
	return train.NewStepExec(b, store, stepMetrics, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		real, g := in[0], in[0].Graph()
		z := nn.StandardNormal(scope, g, zShape)
		// A fresh scope for each use: a scope refuses to enter a sub-scope twice.
		gen, disc := func() *model.Scope { return scope.At(GenScope) }, func() *model.Scope { return scope.At(DiscScope) }
		fake := p.gen(gen(), z)
		if p.afterGen != nil {
			p.afterGen(g)
		}
		realLogits, fakeLogits := p.disc(disc(), real), p.disc(disc(), graph.StopGradient(fake))
		discLoss := p.discLoss(realLogits, fakeLogits)
		if schedule { // only now: G's EMA copies every variable under G's scope that is in use
			train.SetLearningRate(disc(), in[1])
			train.SetLearningRate(gen(), in[2])
		}
		p.discOpt.UpdateGraph(disc(), g, discLoss)
		holdConstant(store, g, "/"+DiscScope+"/")
		genLoss := p.genLoss(p.disc(disc(), fake))
		p.genOpt.UpdateGraph(gen(), g, genLoss)
		return []*graph.Node{discLoss, genLoss, meanSigmoid(realLogits), meanSigmoid(fakeLogits)}
	})
}

// holdConstant wraps the value in graph g of every trainable variable under prefix in a
// StopGradient: a later loss's gradient does not flow into them nor back through the update
// that computed them (a gradient of D's gradient, which G's update does not need and the
// hand-written convolution gradients do not support).
func holdConstant(store *model.Store, g *graph.Graph, prefix string) {
	for v := range store.IterVariables() {
		if v.Trainable && strings.HasPrefix(v.Path(), prefix) && v.InUseByGraph(g) {
			v.SetNodeValue(graph.StopGradient(v.NodeValue(g)))
		}
	}
}
