import { PAGE_PATHS, pageLinks, pageOfApiPath, subjectPagePath } from './web-links';

describe('web links', () => {
  it('builds each page link under the public URL, its key encoded', () => {
    const links = pageLinks('https://assetflow.example/');
    expect(links.change('CHG0001001')).toBe('https://assetflow.example/ui/changes/CHG0001001');
    expect(links.purchaseRequest('PR0001001')).toBe('https://assetflow.example/ui/purchase-requests/PR0001001');
    expect(links.asset('AST 1/2')).toBe('https://assetflow.example/ui/assets/AST%201%2F2');
    expect(links.process('change:CHG0001001')).toBe('https://assetflow.example/ui/processes/change%3ACHG0001001');
    expect(links.of(subjectPagePath('purchase_request', 'PR0001002'))).toBe('https://assetflow.example/ui/purchase-requests/PR0001002');
  });

  it('knows the page an old API link stands for, and nothing else', () => {
    expect(pageOfApiPath('/changes/CHG0001001')).toBe(PAGE_PATHS.change('CHG0001001'));
    expect(pageOfApiPath('/purchase-requests/PR0001001/')).toBe('/ui/purchase-requests/PR0001001');
    expect(pageOfApiPath('/assets/AST0001001')).toBe('/ui/assets/AST0001001');
    expect(pageOfApiPath('/processes/change%3ACHG0001001')).toBe('/ui/processes/change%3ACHG0001001');
    expect(pageOfApiPath('/people/0b6f6f7e-0000-4000-8000-000000000001')).toBe('/ui/people/0b6f6f7e-0000-4000-8000-000000000001');
    for (const other of ['/changes', '/changes/CHG0001001/approvals', '/assets/export', '/processes/dashboard', '/approvals/x', '/changes/%E0%A4%A', '/ui/changes/CHG1']) {
      expect(pageOfApiPath(other)).toBeUndefined();
    }
  });
});
