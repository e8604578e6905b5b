{#- An address for record linkage: the lines joined, normalise_for_matching, then the common
    street abbreviations written out (address_abbreviations below), so that 'Hauptstr. 5',
    'Hauptstraße 5' and 'Haupt Strasse 5' all become 'hauptstrasse 5' and '12 High St.'
    becomes '12 high street'. Null when every line is empty. -#}
{% macro normalise_address(lines) -%}
    {%- set joined = [] -%}
    {%- for line in lines -%}
        {%- do joined.append("coalesce(" ~ line ~ ", '')") -%}
    {%- endfor -%}
    {#- a namespace: a plain set inside the loop would not outlive it -#}
    {%- set address = namespace(
        text="' ' || " ~ normalise_for_matching(joined | join(" || ' ' || ")) ~ " || ' '"
    ) -%}
    {%- for abbreviation, written_out in address_abbreviations() -%}
        {%- set address.text = "replace(" ~ address.text ~ ", '" ~ abbreviation ~ "', '" ~ written_out ~ "')" -%}
    {%- endfor -%}
    nullif(trim({{ address.text }}), '')
{%- endmacro %}

{#- (from, to) replacements over the space-padded, punctuation-free, lower-case text, in
    order. A leading space marks a whole word; 'str ' without one also ends a word
    ('hauptstr' -> 'hauptstrasse'); ' strasse ' then joins the word before it, since
    'Berliner Straße' and 'Berlinerstraße' are written both ways. Single letters ('c/' for
    calle, 'v.' for via) are left alone: they are just as often a flat or house letter. -#}
{% macro address_abbreviations() -%}
    {{ return([
        ('str ', 'strasse '),
        (' strasse ', 'strasse '),
        (' st ', ' street '),
        (' rd ', ' road '),
        (' ave ', ' avenue '),
        (' av ', ' avenue '),
        (' ln ', ' lane '),
        (' dr ', ' drive '),
    ]) }}
{%- endmacro %}
