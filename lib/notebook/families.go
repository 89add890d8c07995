package notebook

// Every family, registered in every cell: gonb drops a cell's import of a package the cell
// does not use, so a cell that only calls Train("gan") would otherwise find no "gan".
import _ "github.com/iagen-course/iagen/lib/family/all"
