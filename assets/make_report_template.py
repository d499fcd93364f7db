"""Build `assets/report_template.docx`, the Word template the workshop report is made from.

    python assets/make_report_template.py

The report uses only the styles defined here (listed in `facilitation.report.REQUIRED_STYLES`),
the page size, margins and footer of this file. To brand the report for an organisation,
open `report_template.docx` in Word, change these styles (fonts, colours, spacing), the
margins or the footer, and save it under the same name; or change the constants below and
run this script again. Keep the style names; the body of the template is ignored.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor

OUT = Path(__file__).resolve().parent / "report_template.docx"

BODY_FONT = "Arial"          # Word on every platform has it; LibreOffice maps it to Liberation Sans
HEADING_FONT = "Arial"
INK = RGBColor(0x26, 0x2B, 0x2E)
DEEP = RGBColor(0x1F, 0x4E, 0x5F)     # titles, table header fill
ACCENT = RGBColor(0x2E, 0x7D, 0x8C)   # second-level headings, story headings
MUTED = RGBColor(0x5F, 0x6B, 0x70)    # labels, captions
RULE = "BFC8CC"                       # table borders
BAND = "F1F5F6"                       # alternate table rows
NOTE_FILL = "FFF4CE"
NOTE_INK = RGBColor(0x5C, 0x44, 0x00)
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)   # A4 portrait
MARGIN = Mm(20)


def _font(style, *, size: float, bold: bool | None = None, italic: bool | None = None,
          color: RGBColor | None = None, name: str = BODY_FONT) -> None:
    f = style.font
    f.name = name
    # east-Asian and complex-script fonts too, so Word does not fall back to the theme font
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        rfonts.set(qn(attr), name)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        rfonts.attrib.pop(qn(attr), None)
    f.size = Pt(size)
    f.bold = bold
    f.italic = italic
    if color is not None:
        f.color.rgb = color
    rpr = style.element.get_or_add_rPr()
    for el in rpr.findall(qn("w:szCs")):
        rpr.remove(el)
    rpr.append(parse_xml(f'<w:szCs {nsdecls("w")} w:val="{int(size * 2)}"/>'))  # size for RTL scripts too


def _spacing(style, *, before: float = 0, after: float = 6, line: float | None = None,
             keep_next: bool | None = None) -> None:
    pf = style.paragraph_format
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    if line is not None:
        pf.line_spacing = line
    if keep_next is not None:
        pf.keep_with_next = keep_next


def _clear_borders(style) -> None:
    ppr = style.element.get_or_add_pPr()
    for el in ppr.findall(qn("w:pBdr")):
        ppr.remove(el)


# Child order of w:pPr and w:rPr in the WordprocessingML schema (ECMA-376 §17.3.1.26, §17.3.2.28).
PPR_ORDER = (
    "w:pStyle w:keepNext w:keepLines w:pageBreakBefore w:framePr w:widowControl w:numPr "
    "w:suppressLineNumbers w:pBdr w:shd w:tabs w:suppressAutoHyphens w:kinsoku w:wordWrap "
    "w:overflowPunct w:topLinePunct w:autoSpaceDE w:autoSpaceDN w:bidi w:adjustRightInd "
    "w:snapToGrid w:spacing w:ind w:contextualSpacing w:mirrorIndents w:suppressOverlap w:jc "
    "w:textDirection w:textAlignment w:textboxTightWrap w:outlineLvl w:divId w:cnfStyle w:rPr "
    "w:sectPr w:pPrChange").split()
RPR_ORDER = (
    "w:rStyle w:rFonts w:b w:bCs w:i w:iCs w:caps w:smallCaps w:strike w:dstrike w:outline "
    "w:shadow w:emboss w:imprint w:noProof w:snapToGrid w:vanish w:webHidden w:color w:spacing "
    "w:w w:kern w:position w:sz w:szCs w:highlight w:u w:effect w:bdr w:shd w:fitText "
    "w:vertAlign w:rtl w:cs w:em w:lang w:eastAsianLayout w:specVanish w:oMath").split()


def _schema_order(root) -> None:
    """Put the children of every pPr and rPr in the order the schema demands (Word is strict)."""
    for tag, seq in (("w:pPr", PPR_ORDER), ("w:rPr", RPR_ORDER)):
        rank = {qn(t): i for i, t in enumerate(seq)}
        for el in root.iter(qn(tag)):
            children = list(el)
            children.sort(key=lambda c: rank.get(c.tag, len(rank)))
            for c in children:
                el.remove(c)
            el.extend(children)


def _paragraph_style(doc, name: str, base: str = "Normal"):
    styles = doc.styles
    style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = styles[base]
    style.quick_style = True
    return style


def _shade_and_border(style, *, fill: str, border: str | None = None) -> None:
    ppr = style.element.get_or_add_pPr()
    if border:
        ppr.append(parse_xml(
            f'<w:pBdr {nsdecls("w")}><w:left w:val="single" w:sz="18" w:space="6" w:color="{border}"/></w:pBdr>'))
    ppr.append(parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{fill}"/>'))


TABLE_STYLE_XML = f"""
<w:style {nsdecls("w")} w:type="table" w:customStyle="1" w:styleId="StoryRelayTable">
  <w:name w:val="Story Relay Table"/>
  <w:basedOn w:val="TableNormal"/>
  <w:uiPriority w:val="40"/>
  <w:qFormat/>
  <w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>
  <w:rPr><w:rFonts w:ascii="{BODY_FONT}" w:hAnsi="{BODY_FONT}" w:cs="{BODY_FONT}"/><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr>
  <w:tblPr>
    <w:tblStyleRowBandSize w:val="1"/>
    <w:tblBorders>
      <w:top w:val="single" w:sz="4" w:space="0" w:color="{RULE}"/>
      <w:left w:val="single" w:sz="4" w:space="0" w:color="{RULE}"/>
      <w:bottom w:val="single" w:sz="4" w:space="0" w:color="{RULE}"/>
      <w:right w:val="single" w:sz="4" w:space="0" w:color="{RULE}"/>
      <w:insideH w:val="single" w:sz="4" w:space="0" w:color="{RULE}"/>
      <w:insideV w:val="single" w:sz="4" w:space="0" w:color="{RULE}"/>
    </w:tblBorders>
    <w:tblCellMar>
      <w:top w:w="57" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>
      <w:bottom w:w="57" w:type="dxa"/><w:right w:w="85" w:type="dxa"/>
    </w:tblCellMar>
  </w:tblPr>
  <w:tblStylePr w:type="firstRow">
    <w:rPr><w:b/><w:bCs/><w:color w:val="FFFFFF"/></w:rPr>
    <w:tblPr/>
    <w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{DEEP}"/></w:tcPr>
  </w:tblStylePr>
  <w:tblStylePr w:type="band2Horz">
    <w:tblPr/>
    <w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{BAND}"/></w:tcPr>
  </w:tblStylePr>
</w:style>
"""

FOOTER_XML = f"""
<w:p {nsdecls("w")}>
  <w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="right"/></w:pPr>
  <w:r><w:t xml:space="preserve">Story Relay workshop report · page </w:t></w:r>
  <w:r><w:fldChar w:fldCharType="begin"/></w:r>
  <w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>
  <w:r><w:fldChar w:fldCharType="separate"/></w:r>
  <w:r><w:t>1</w:t></w:r>
  <w:r><w:fldChar w:fldCharType="end"/></w:r>
  <w:r><w:t xml:space="preserve"> of </w:t></w:r>
  <w:r><w:fldChar w:fldCharType="begin"/></w:r>
  <w:r><w:instrText xml:space="preserve"> NUMPAGES </w:instrText></w:r>
  <w:r><w:fldChar w:fldCharType="separate"/></w:r>
  <w:r><w:t>1</w:t></w:r>
  <w:r><w:fldChar w:fldCharType="end"/></w:r>
</w:p>
"""


def build(out: Path = OUT) -> Path:
    doc = Document()
    styles = doc.styles

    # Document defaults and the base style
    normal = styles["Normal"]
    _font(normal, size=10.5, color=INK)
    _spacing(normal, before=0, after=6, line=1.15)

    title = styles["Title"]
    _clear_borders(title)
    _font(title, size=28, bold=True, color=DEEP, name=HEADING_FONT)
    _spacing(title, before=120, after=12, line=1.0)
    subtitle = styles["Subtitle"]
    _font(subtitle, size=16, bold=False, italic=False, color=ACCENT, name=HEADING_FONT)
    _spacing(subtitle, before=0, after=36)

    for level, size, color, before, after in ((1, 18, DEEP, 0, 8), (2, 13.5, ACCENT, 16, 6), (3, 11.5, DEEP, 14, 4)):
        h = styles[f"Heading {level}"]
        _font(h, size=size, bold=True, italic=False, color=color, name=HEADING_FONT)
        _spacing(h, before=before, after=after, line=1.0, keep_next=True)
    # Every chapter (agenda, people, each exercise) starts on a new page.
    styles["Heading 1"].paragraph_format.page_break_before = True

    caption = styles["Caption"]
    _font(caption, size=9, bold=False, italic=True, color=MUTED)
    _spacing(caption, before=2, after=10)

    footer = styles["Footer"]
    _font(footer, size=8.5, color=MUTED)

    s = _paragraph_style(doc, "Title Page Detail")
    _font(s, size=12, color=INK)
    _spacing(s, before=0, after=4)

    s = _paragraph_style(doc, "Question")
    _font(s, size=13, italic=True, color=DEEP)
    _spacing(s, before=4, after=8, line=1.15)
    _shade_and_border(s, fill="EEF4F5", border=str(ACCENT))
    s.paragraph_format.left_indent = Pt(9)  # keeps the bar inside the margin, in line with the text

    s = _paragraph_style(doc, "Story Heading")
    _font(s, size=10.5, bold=True, color=ACCENT)
    _spacing(s, before=12, after=2, keep_next=True)
    s.element.get_or_add_pPr().append(parse_xml(
        f'<w:pBdr {nsdecls("w")}><w:top w:val="single" w:sz="4" w:space="4" w:color="{RULE}"/></w:pBdr>'))

    s = _paragraph_style(doc, "Story Label")
    _font(s, size=8.5, bold=True, color=MUTED)
    _spacing(s, before=4, after=0, keep_next=True)

    s = _paragraph_style(doc, "Story Text")
    _font(s, size=10.5, color=INK)
    _spacing(s, before=0, after=2, line=1.15)

    s = _paragraph_style(doc, "Note")
    _font(s, size=10, italic=True, color=NOTE_INK)
    _spacing(s, before=6, after=10)
    _shade_and_border(s, fill=NOTE_FILL, border="E0B400")
    s.paragraph_format.left_indent = Pt(9)

    s = _paragraph_style(doc, "Table Text")
    _font(s, size=9, color=INK)
    _spacing(s, before=0, after=0, line=1.0)

    s = _paragraph_style(doc, "Table Heading", base="Table Text")
    _font(s, size=9, bold=True, color=RGBColor(0xFF, 0xFF, 0xFF))
    _spacing(s, before=0, after=0, line=1.0, keep_next=True)

    s = doc.styles.add_style("Field Label", WD_STYLE_TYPE.CHARACTER)
    s.base_style = styles["Default Paragraph Font"]
    s.quick_style = True
    _font(s, size=8.5, bold=True, color=MUTED)

    s = _paragraph_style(doc, "Figure", base="Normal")
    _spacing(s, before=4, after=4, line=1.0)
    s.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER

    styles.element.append(parse_xml(TABLE_STYLE_XML))
    _schema_order(styles.element)

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, MARGIN)
    section.header_distance = section.footer_distance = Mm(10)
    ftr = section.footer
    ftr.is_linked_to_previous = False
    for p in list(ftr.paragraphs):
        p._p.getparent().remove(p._p)
    ftr._element.append(parse_xml(FOOTER_XML))
    section.different_first_page_header_footer = True  # no footer on the title page

    # The body is ignored by the report; leave it empty so a stray paragraph never shows up.
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)

    props = doc.core_properties
    props.author = "Story Relay"
    props.title = "Story Relay workshop report"
    props.comments = "Template for the Story Relay workshop report. Change the styles, keep their names."
    props.last_modified_by = "Story Relay"
    doc.save(out)
    return out


if __name__ == "__main__":
    print(build())
