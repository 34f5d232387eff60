import { describe, expect, it } from 'vitest';
import { splitTagCell, tagCellText } from '../../domain/imports/tag-cells';

describe('tag cells', () => {
  it.each([
    ['VIP ::: Partners, EMEA', ['VIP', 'Partners, EMEA']], // this CRM's export, Google Contacts
    ['"VIP","Webinar 2026"', ['VIP', 'Webinar 2026']], // Mailchimp
    ['"Webinar 2026"', ['Webinar 2026']],
    ['Hot lead, Customer', ['Hot lead', 'Customer']], // Pipedrive, Zoho, hand-kept sheets
    ['Business;VIP', ['Business', 'VIP']], // Outlook categories
    ['lead', ['lead']],
    [' , ;', []],
  ])('reads %j as %j', (cell, tags) => {
    expect(splitTagCell(cell)).toEqual(tags);
  });

  it.each([[['VIP', 'Prospect 2026']], [['lead']], [['Partners, EMEA']], [['A; B']], [['"Gold"']], [['Partners, EMEA', 'lead']], [[]]])(
    'writes %j as a cell that reads back the same',
    (tags) => {
      expect(splitTagCell(tagCellText(tags))).toEqual(tags);
    },
  );

  it('marks only a lone tag that would be split', () => {
    expect(tagCellText(['VIP', 'Prospect 2026'])).toBe('VIP ::: Prospect 2026');
    expect(tagCellText(['Partners, EMEA'])).toBe('Partners, EMEA :::');
  });
});
