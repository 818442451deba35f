// An announcement's body, Markdown from the signed channel, turned into HTML the console's banner
// may insert (DESIGN §4.10). markdown-it (well kept, CommonMark) with raw HTML off: every `<` of the
// source comes out escaped, so no markup of the author's passes. Links keep only http, https and
// mailto targets (anything else stays text), and images are off: the console's CSP loads none from
// elsewhere, and a notice has no business fetching one. Loaded only with the console's chunk.
import MarkdownIt from 'markdown-it';

const LINK = /^(?:https?:|mailto:)/i;

let renderer: MarkdownIt | null = null;

function markdown(): MarkdownIt {
  if (renderer) return renderer;
  const md = new MarkdownIt('commonmark', { html: false, linkify: false, typographer: false });
  md.disable('image');
  md.validateLink = (url) => LINK.test(url.trim());
  const open = md.renderer.rules.link_open ?? ((tokens, i, options, _env, self) => self.renderToken(tokens, i, options));
  md.renderer.rules.link_open = (tokens, i, options, env, self) => {
    // A link leaves the console in a new tab that cannot reach back into it.
    tokens[i]!.attrSet('rel', 'noopener noreferrer');
    tokens[i]!.attrSet('target', '_blank');
    return open(tokens, i, options, env, self);
  };
  return (renderer = md);
}

/** Safe HTML for a notice's Markdown body. */
export function renderMarkdown(source: string): string {
  return markdown().render(source);
}
