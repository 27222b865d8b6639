package zugferd

// Layout exposes the plain maroto rendering to the benchmarks of package zugferd_test.
var Layout = MarotoLayout
