// Store-neutral indexes: the dotted name tree for find() and the tag index for seriesByTag.
export { NameTree } from './tree.js';
export { TagIndex } from './tags.js';
export { expandBraces, fnmatchToRegExp, compileGlob, compileNode, type GlobMatcher, type NodeMatcher } from './glob.js';
